package io.transferlab.bench;

import io.transferlab.applications.Applications;
import io.transferlab.data.Batch;
import io.transferlab.data.ClassMode;
import io.transferlab.data.ImageFolder;
import io.transferlab.data.Images;
import io.transferlab.data.Preprocessing;
import io.transferlab.engine.Engines;
import io.transferlab.models.Model;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.train.History;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.transferlab.layers.Layers.*;

/**
 * Fine-tuning speed, images per second of training epochs (images decoded once beforehand, so that the figure is
 * the training step's): {@code mobilenet} is notebook 07's (MobileNet 0.25 at 224 with its real weights, last block
 * + head, Adam 1e-5, batch 32, real cats/dogs JPEGs from TL_SHARED), {@code vgg} VGG16 block5 + head at 150x150,
 * batch 20, RMSprop 1e-5, random weights and images. Run it once per path: -Dtransferlab.fastFinetune=false|true.
 * Arguments: workload, images, epochs (the first is a warm-up; the median of the others is printed).
 */
public final class FineTuneBench {
    public static void main(String[] args) {
        String which = args[0];
        int n = Integer.parseInt(args[1]);
        int epochs = Integer.parseInt(args[2]);
        Model model;
        INDArray x;
        INDArray y;
        int batch;
        if (which.equals("mobilenet")) {
            Path shared = Path.of(System.getenv("TL_SHARED"));
            Model base = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(224, 224, 3)
                    .weights(shared.resolve("weights/mobilenet_2_5_224_tf_no_top.h5").toString()).build();
            var f = GlobalAveragePooling2D("features").on(base.output());
            f = Dropout(0.2).on(f);
            model = Model.of(base.input(), Dense(1, "sigmoid").on(f));
            base.freeze();
            base.unfreezeFrom("conv_dw_13");
            model.compile(Optimizer.Adam(1e-5), "binary_crossentropy", "accuracy");
            var ds = ImageFolder.at(shared.resolve("data/cats_and_dogs_filtered/train")).targetSize(224, 224).batchSize(32)
                    .classMode(ClassMode.BINARY).preprocessing(Preprocessing.TF).interpolation(Images.Interpolation.BILINEAR)
                    .limitPerClass(n / 2).build();
            List<INDArray> xs = new ArrayList<>(), ys = new ArrayList<>();
            for (Batch b : ds) {
                xs.add(b.x().dup());
                ys.add(b.y().dup());
            }
            x = Nd4j.concat(0, xs.toArray(INDArray[]::new));
            y = Nd4j.concat(0, ys.toArray(INDArray[]::new));
            batch = 32;
        } else {
            Model base = Applications.vgg16().includeTop(false).inputShape(150, 150, 3).build();
            var f = Flatten().on(base.output());
            f = Dense(256, "relu").on(f);
            f = Dropout(0.5).on(f);
            model = Model.of(base.input(), Dense(1, "sigmoid").on(f));
            base.freeze();
            base.unfreezeFrom("block5_conv1");
            model.compile(Optimizer.RMSprop(1e-5), "binary_crossentropy", "accuracy");
            Nd4j.getRandom().setSeed(1);
            x = Nd4j.rand(DataType.FLOAT, n, 150, 150, 3);
            y = Nd4j.rand(DataType.FLOAT, n, 1).gt(0.5).castTo(DataType.FLOAT);
            batch = 20;
        }
        System.out.println("cut: " + Engines.frozenPrefixCut(model) + "; images " + x.size(0));
        History h = model.fit(x, y, epochs, batch, null, null);
        double[] rates = h.epochs().stream().skip(1).mapToDouble(e -> x.size(0) / e.seconds()).sorted().toArray();
        System.out.printf("@@ %s fastFinetune=%s img/s per epoch %s median %.1f%n", which,
                System.getProperty("transferlab.fastFinetune", "true"), Arrays.toString(rates), rates[rates.length / 2]);
    }
}
