// The notebooks' shared set-up: every notebook's set-up cell runs `%load setup.jsh`.
// This is the one place that lists the library's imports; when a class moves, change it here.
import io.transferlab.applications.*;
import io.transferlab.data.*;
import io.transferlab.explain.*;
import io.transferlab.inference.*;
import io.transferlab.layers.*;
import io.transferlab.models.*;
import io.transferlab.optimizers.*;
import io.transferlab.report.*;
import io.transferlab.runtime.*;
import io.transferlab.train.*;
import io.transferlab.weights.*;
import static io.transferlab.layers.Layers.*;
import static io.transferlab.runtime.Display.display;

import java.nio.file.Path;
import java.util.*;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
