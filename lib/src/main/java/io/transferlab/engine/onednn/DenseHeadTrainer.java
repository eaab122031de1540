package io.transferlab.engine.onednn;

import io.transferlab.graph.Functional;
import io.transferlab.losses.Loss;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.layers.Activation;
import io.transferlab.layers.Dense;
import io.transferlab.layers.Dropout;
import io.transferlab.layers.Flatten;
import io.transferlab.layers.InputLayer;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Node;
import io.transferlab.layers.Tensor;
import io.transferlab.runtime.FloatArrays;
import org.bytedeco.javacpp.FloatPointer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The training step for the classifier heads of transfer learning (a chain of Dense, Dropout and Activation
 * layers on features, optionally after a Flatten), done without DL4J's per-layer machinery: two matrix products
 * per Dense layer (oneDNN's matmul, see {@link MatMul}) and one fused loop for the optimizer over all weights.
 *
 * <p>Why: on 2000 x 8192 features a DL4J step spends most of its time on work a head does not need (the
 * gradient with respect to the input features, the forward product computed twice, the weight matrix in
 * column-major order through a slow product path) and on an optimizer op that walks the 2.1 million weights
 * several times. Here one step is a forward product, a weight-gradient product, and one pass of RMSprop/Adam/SGD.
 *
 * <p>The arithmetic is DL4J's (and Keras's): inverted dropout, mean loss over the batch, DL4J's RMSprop (state
 * starting at epsilon), Adam (bias-corrected step size) and Keras's SGD momentum. Weights and optimizer state live in DL4J's own
 * flattened layout, read from the network when training starts and written back after every epoch, so
 * checkpoints, resuming and evaluation see exactly what training produced ({@link DenseHeadStep}).
 * {@code TL_FAST_HEAD=0} (or the system property {@code transferlab.fastHead=false}) switches it off.
 */
final class DenseHeadTrainer {
    private enum Kind { DENSE, ACTIVATION, DROPOUT }

    /** One step of the chain; Dense steps own a slice of the flattened weights. */
    private static final class Step {
        Kind kind;
        String activation;  // ACTIVATION: its function
        double keep;        // DROPOUT: keep probability
        int in;
        int out;
        long wOffset;       // DENSE: offset of W (stored as W^T, out x in, row-major = DL4J's 'f' order) in the weights
        long bOffset;       // DENSE: offset of the bias, or -1
        long gwOffset;      // DENSE, untiled: offset of W's gradient in the gradient buffer (which skips tiled W)
        long gbOffset;      // DENSE with a bias: offset of its gradient there
        FloatPointer output;
        float[] mask;
        /** DENSE: W's gradient is computed a tile of rows at a time inside the optimizer step (never stored whole). */
        boolean tiled;
        /** DENSE, tiled: rows of W^T per tile. */
        int tileRows;
        /** DENSE: for each batch size, its three products: forward, weight gradient, input gradient. */
        final java.util.Map<Integer, MatMul[]> products = new java.util.HashMap<>();

        MatMul[] products(int batch) {
            return products.computeIfAbsent(batch, b -> {
                int last = out % tileRows == 0 ? tileRows : out % tileRows;
                return new MatMul[]{
                    new MatMul(b, out, in, false, true, bOffset >= 0),   // y = x . W + b, W stored as W^T (out x in)
                    tiled ? null : new MatMul(out, in, b, true, false, false),          // dW^T = g^T . x
                    new MatMul(b, in, out, false, false, false),         // dx = g . W^T
                    // tiled: dW^T rows o..o+r = (g^T rows o..o+r, copied compact) . x, full tiles and the last one
                    tiled ? new MatMul(tileRows, in, b, false, false, false) : null,
                    tiled ? new MatMul(last, in, b, false, false, false) : null};
            });
        }
    }

    private final List<Step> steps = new ArrayList<>();
    private final boolean binary;
    private final int inputWidth;
    private final long numParams;
    private final FloatPointer params;
    private final FloatPointer grads;
    /** Values in {@link #grads}: the weights outside tiled layers. */
    private final long gradCount;
    private final FloatPointer state;
    private final long stateSize;
    private final FlatOptimizer optimizer;
    /** Dropout masks are drawn from a generator seeded by this and the iteration: the same in a resumed run. */
    private static final long DROPOUT_SEED = 42;
    private int iteration;
    private int capacity;
    private FloatPointer gradA;
    private FloatPointer gradB;
    /**
     * The ranges of the flattened weights whose gradients go through {@link #grads}: {start, length, start of their
     * gradients} (the buffer holds only these ranges, one after the other).
     */
    private final List<long[]> untiled = new ArrayList<>();
    /** One tile of a tiled layer's weight gradient, and the compact slice of the output gradient it comes from. */
    private FloatPointer tile;
    private FloatPointer gradSlice;

    /**
     * Floats per tile of a tiled weight gradient. Dense layers of at least 8 tiles get their weight gradient a tile
     * at a time, each tile consumed by the optimizer while it is in cache: notebook 02's 38.5M-weight layer
     * otherwise writes its 154 MB gradient to memory and reads it back every step (see {@link #stepTiled}).
     * By default a tile fills one core's L2 cache ({@link #DEFAULT_TILE_FLOATS}); {@code transferlab.headTileFloats}
     * (or {@code TL_HEAD_TILE_FLOATS}) sets it; 0 switches tiling off.
     */
    static int tileFloats() {
        String v = System.getProperty("transferlab.headTileFloats");
        if (v == null) {
            v = System.getenv("TL_HEAD_TILE_FLOATS");
        }
        if (v == null || v.isBlank()) {
            return DEFAULT_TILE_FLOATS;
        }
        try {
            return Math.max(0, Integer.parseInt(v.trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("transferlab.headTileFloats (TL_HEAD_TILE_FLOATS) must be a whole number, got '"
                    + v + "'");
        }
    }

    /**
     * A tile as large as one core's L2 cache (Linux's sysfs; 2 MB where it cannot be read): notebook 02's head took
     * 9.6 s an epoch with 2 MB tiles against 12.4 s with 8 MB ones on a Xeon with 2 MB of L2 a core (alternating
     * epochs in one process), 10.3 s with 1.5 MB and 11.1 s with 1 MB: the tile is written by the product and read
     * back by the optimizer's pass, and it should not leave the core's cache in between.
     */
    static final int DEFAULT_TILE_FLOATS = io.transferlab.runtime.Backend.l2CacheBytes() / Float.BYTES;

    static boolean enabled() {
        return io.transferlab.runtime.Backend.switchedOn("transferlab.fastHead", "TL_FAST_HEAD");
    }

    /**
     * A trainer for the network of a model that is a plain head.
     *
     * @throws UnsupportedOperationException saying why the model is not one (the DL4J engine trains it instead)
     */
    DenseHeadTrainer(Functional model, Optimizer optimizer, Loss loss, ComputationGraph net) {
        if (!model.isTrainable()) {
            throw new UnsupportedOperationException("the model is frozen");
        }
        this.optimizer = new FlatOptimizer(optimizer);
        List<Layer> chain = chain(model);
        long width = -1;
        long offset = 0;
        List<Dense> denses = new ArrayList<>();
        for (Layer l : chain) {
            Step s = new Step();
            if (l instanceof Flatten) {
                if (!steps.isEmpty()) {
                    throw new UnsupportedOperationException("Flatten after other layers");
                }
                continue;
            } else if (l instanceof Dense d) {
                if (!d.isTrainable()) {
                    throw new UnsupportedOperationException("frozen layer '" + d.name() + "'");
                }
                long[] k = d.weightSpecs().get(0).shape();
                s.kind = Kind.DENSE;
                s.in = (int) k[0];
                s.out = (int) k[1];
                s.wOffset = offset;
                offset += k[0] * k[1];
                s.bOffset = d.weightSpecs().size() > 1 ? offset : -1;
                offset += d.weightSpecs().size() > 1 ? k[1] : 0;
                if (width < 0) {
                    width = s.in;
                }
                denses.add(d);
                steps.add(s);
                if (!"linear".equals(d.activation())) {
                    Step a = new Step();
                    a.kind = Kind.ACTIVATION;
                    a.activation = d.activation();
                    steps.add(a);
                }
                continue;
            } else if (l instanceof Dropout dr) {
                s.kind = Kind.DROPOUT;
                s.keep = 1 - dr.rate();
            } else if (l instanceof Activation a) {
                s.kind = Kind.ACTIVATION;
                s.activation = a.activation();
            } else {
                throw new UnsupportedOperationException("layer '" + l.name() + "' (" + l.typeName() + ")");
            }
            if (steps.isEmpty()) {
                throw new UnsupportedOperationException("layer '" + l.name() + "' before the first Dense");
            }
            steps.add(s);
        }
        if (denses.isEmpty()) {
            throw new UnsupportedOperationException("no Dense layer");
        }
        // the end: a Dense with sigmoid (binary cross-entropy) or softmax (categorical cross-entropy)
        Step last = steps.get(steps.size() - 1);
        Dense lastDense = denses.get(denses.size() - 1);
        binary = loss == Loss.BINARY_CROSSENTROPY;
        String want = binary ? "sigmoid" : "softmax";
        if (last.kind != Kind.ACTIVATION || !want.equals(last.activation) || !want.equals(lastDense.activation())) {
            throw new UnsupportedOperationException("the output is not a Dense with " + want + " for " + loss.kerasName());
        }
        for (Step s : steps) {
            if (s != last && s.kind == Kind.ACTIVATION && !List.of("relu", "sigmoid", "tanh").contains(s.activation)) {
                throw new UnsupportedOperationException("hidden activation '" + s.activation + "'");
            }
        }
        inputWidth = (int) width;
        numParams = offset;
        int tileFloats = tileFloats();
        long from = 0;
        long tiledBefore = 0;    // weights of tiled layers before the current position: not in the gradient buffer
        for (Step st : steps) {
            st.tileRows = 1;
            if (st.kind != Kind.DENSE) {
                continue;
            }
            if (tileFloats > 0 && (long) st.in * st.out >= 8L * tileFloats) {
                st.tiled = true;
                st.tileRows = Math.max(1, Math.min(st.out, tileFloats / st.in));
                if (st.wOffset > from) {
                    untiled.add(new long[]{from, st.wOffset - from, from - tiledBefore});
                }
                from = st.wOffset + (long) st.in * st.out;
                tiledBefore += (long) st.in * st.out;
            }
            st.gwOffset = st.tiled ? -1 : st.wOffset - tiledBefore;
            st.gbOffset = st.bOffset < 0 ? -1 : st.bOffset - tiledBefore;
        }
        if (numParams > from) {
            untiled.add(new long[]{from, numParams - from, from - tiledBefore});
        }
        gradCount = numParams - tiledBefore;
        if (net.numParams() != numParams) {
            throw new UnsupportedOperationException("DL4J has " + net.numParams() + " parameters, the chain " + numParams);
        }
        var cgUpdater = net.getUpdater();
        if (cgUpdater.getUpdaterBlocks().size() > 1) {
            throw new UnsupportedOperationException("several updater blocks");
        }
        params = new FloatPointer(numParams);
        grads = new FloatPointer(Math.max(1, gradCount));
        stateSize = this.optimizer.stateSlots() * numParams;
        if (numParams * Float.BYTES > Integer.MAX_VALUE || stateSize * Float.BYTES > Integer.MAX_VALUE) {
            throw new UnsupportedOperationException(numParams + " weights (more than 2 GB of weights or state)");
        }
        state = stateSize > 0 ? new FloatPointer(stateSize) : null;
        INDArray stateView = net.getUpdater().getStateViewArray();
        if ((stateView == null ? 0 : stateView.length()) != stateSize) {
            throw new UnsupportedOperationException("DL4J's optimizer state has " + (stateView == null ? 0 : stateView.length())
                    + " values, " + stateSize + " expected");
        }
        readFrom(net);
        // check the layout assumption (DL4J's flattened order: layer by layer, W in column-major, then b)
        FloatBuffer p = params.asBuffer();
        int k = 0;
        for (Step s : steps) {
            if (s.kind != Kind.DENSE) {
                continue;
            }
            INDArray w = net.getLayer(denses.get(k++).name()).getParam("W");
            int i = s.in - 1;
            int o = s.out - 1;
            if (w.getFloat(i, o) != p.get((int) (s.wOffset + (long) o * s.in + i)) || w.getFloat(0, o) != p.get((int) (s.wOffset + (long) o * s.in))) {
                throw new UnsupportedOperationException("unexpected DL4J parameter layout");
            }
        }
    }

    /** For each step of the chain (Dense, activation, dropout), whether its weight gradient is tiled. */
    List<Boolean> tiledSteps() {
        return steps.stream().map(s -> s.tiled).toList();
    }

    /**
     * Frees the native matrix products and buffers now (a 151M-weight head with Adam holds 2.4 GB of them) rather
     * than whenever the garbage collector gets to them; the trainer is not used afterwards.
     */
    void close() {
        for (Step s : steps) {
            s.products.values().forEach(ps -> java.util.Arrays.stream(ps).filter(java.util.Objects::nonNull).forEach(MatMul::close));
            s.products.clear();
            if (s.output != null) {
                s.output.deallocate();
                s.output = null;
            }
        }
        for (FloatPointer p : new FloatPointer[]{params, grads, state, tile, gradSlice, gradA, gradB}) {
            if (p != null) {
                p.deallocate();
            }
        }
        tile = gradSlice = gradA = gradB = null;
        capacity = 0;
        if ((numParams + stateSize) * Float.BYTES >= BIG_HEAD_BYTES) {
            // a big head's training leaves almost no garbage on the Java heap, so the collector that releases the
            // native buffers of models no longer used (DL4J's parameters, gradients and optimizer state) may not run
            // for a long while: notebook 02's head fitted 5 times in one process peaked at 6.4 GB, 3.7 GB with this
            System.gc();
        }
    }

    /** Heads whose weights and optimizer state take at least this many bytes ask for a collection when closed. */
    private static final long BIG_HEAD_BYTES = 256L << 20;

    /** The model's layers from input to output, if it is a plain chain. */
    private static List<Layer> chain(Functional model) {
        List<Layer> out = new ArrayList<>();
        Tensor t = model.input();
        for (Node n : model.graphNodes()) {
            if (n.layer() instanceof InputLayer) {
                continue;
            }
            if (n.layer() instanceof Functional) {
                throw new UnsupportedOperationException("nested model '" + n.layer().name() + "'");
            }
            if (n.inputs().size() != 1 || n.inputs().get(0) != t) {
                throw new UnsupportedOperationException("not a chain at layer '" + n.layer().name() + "'");
            }
            out.add(n.layer());
            t = n.output();
        }
        if (t != model.output()) {
            throw new UnsupportedOperationException("not a chain");
        }
        return out;
    }

    private void readFrom(ComputationGraph net) {
        FloatArrays.copyInto(net.params(), all(params, numParams));
        if (state != null) {
            FloatArrays.copyInto(net.getUpdater().getStateViewArray(), all(state, stateSize));
        }
        iteration = net.getIterationCount();
    }

    /**
     * Writes weights, optimizer state and the iteration count back into the network (bulk native copies: notebook
     * 05's 151M-weight head with Adam took 6 s through Java arrays).
     */
    void writeTo(ComputationGraph net) {
        FloatArrays.assign(net.params(), all(params, numParams));
        if (state != null) {
            FloatArrays.assign(net.getUpdater().getStateViewArray(), all(state, stateSize));
        }
        net.getConfiguration().setIterationCount(iteration);
    }

    /** The first n values at p as a buffer. */
    private static FloatBuffer all(FloatPointer p, long n) {
        if (n * Float.BYTES > Integer.MAX_VALUE) {
            throw new UnsupportedOperationException(n + " values in one buffer");
        }
        return new FloatPointer(p).position(0).limit(n).asBuffer();
    }

    private void ensureCapacity(int batch) {
        if (batch <= capacity) {
            return;
        }
        capacity = batch;
        int widest = inputWidth;
        for (Step s : steps) {
            int w = s.kind == Kind.DENSE ? s.out : widthBefore(s);
            s.output = new FloatPointer((long) batch * w);
            widest = Math.max(widest, w);
        }
        gradA = new FloatPointer((long) batch * widest);
        gradB = new FloatPointer((long) batch * widest);
        long tileSize = 0;
        int sliceSize = 0;
        for (Step s : steps) {
            if (s.tiled) {
                tileSize = Math.max(tileSize, (long) s.tileRows * s.in);
                sliceSize = Math.max(sliceSize, s.tileRows * batch);
            }
        }
        if (tileSize > 0) {
            tile = new FloatPointer(tileSize);
            gradSlice = new FloatPointer(sliceSize);
        }
    }

    private int widthBefore(Step step) {
        int w = inputWidth;
        for (Step s : steps) {
            if (s == step) {
                return w;
            }
            if (s.kind == Kind.DENSE) {
                w = s.out;
            }
        }
        return w;
    }

    /**
     * One training step on a batch: x (batch, features...) and y (batch, classes) or (batch, 1).
     *
     * @return {sum of the per-example losses, number of correct predictions}
     */
    double[] step(INDArray x, INDArray y) {
        int batch = (int) x.size(0);
        ensureCapacity(batch);
        INDArray xc = compact(x);
        if (xc.length() != (long) batch * inputWidth) {
            throw new IllegalArgumentException("the head expects " + inputWidth + " features per example, got shape "
                    + java.util.Arrays.toString(x.shape()));
        }
        float[] labels = FloatArrays.copyOf(y);
        FloatPointer in = new FloatPointer(xc.data().addressPointer());
        SplittableRandom random = new SplittableRandom(DROPOUT_SEED * 1_000_003L + iteration);
        FloatPointer cur = forward(in, batch, random);
        int width = outputWidth();

        // loss, accuracy, and the gradient at the output layer's pre-activation: (p - y) / batch
        FloatBuffer prob = cur.position(0).asBuffer();
        FloatBuffer g = gradA.position(0).asBuffer();
        double lossSum = 0;
        long correct = 0;
        int k = width;
        for (int r = 0; r < batch; r++) {
            int best = 0;
            int truth = 0;
            for (int j = 0; j < k; j++) {
                float p = prob.get(r * k + j);
                float t = labels[r * k + j];
                double q = Math.min(1 - 1e-7, Math.max(1e-7, p));
                lossSum += binary ? -(t * Math.log(q) + (1 - t) * Math.log(1 - q)) / k : -t * Math.log(q);
                g.put(r * k + j, (p - t) / batch);
                if (p > prob.get(r * k + best)) {
                    best = j;
                }
                if (t > labels[r * k + truth]) {
                    truth = j;
                }
            }
            if (binary) {
                correct += (prob.get(r * k) > 0.5) == (labels[r * k] > 0.5) ? 1 : 0;
            } else {
                correct += best == truth ? 1 : 0;
            }
        }

        // backward: the last step (the output activation) is already folded into g
        FloatPointer grad = gradA;
        FloatPointer spare = gradB;
        int firstDense = 0;
        while (steps.get(firstDense).kind != Kind.DENSE) {
            firstDense++;
        }
        for (int idx = steps.size() - 2; idx >= 0; idx--) {
            Step s = steps.get(idx);
            FloatPointer input = idx == 0 ? in : steps.get(idx - 1).output;
            FloatBuffer gb = grad.position(0).asBuffer();
            switch (s.kind) {
                case DENSE -> {
                    // dW^T (out x in) = g^T (out x batch) . input (batch x in); tiled: after dx, below
                    if (!s.tiled) {
                        s.products(batch)[1].run(grad.position(0), input.position(0), null,
                                new FloatPointer(grads).position(s.gwOffset));
                    }
                    if (s.bOffset >= 0) {
                        FloatBuffer gr = grads.position(0).asBuffer();
                        for (int j = 0; j < s.out; j++) {
                            float sum = 0;
                            for (int r = 0; r < batch; r++) {
                                sum += gb.get(r * s.out + j);
                            }
                            gr.put((int) (s.gbOffset + j), sum);
                        }
                    }
                    if (idx > firstDense) {
                        // the gradient for the layer below: g (batch x out) . W^T (out x in); none for the input features
                        s.products(batch)[2].run(grad.position(0), new FloatPointer(params).position(s.wOffset), null,
                                spare.position(0));
                    }
                    if (s.tiled) {   // W changes now, after dx has used it
                        stepTiled(s, batch, grad, input);
                    }
                    if (idx > firstDense) {
                        FloatPointer t = grad;
                        grad = spare;
                        spare = t;
                    }
                }
                case ACTIVATION -> {
                    FloatBuffer out = s.output.position(0).asBuffer();
                    int n = batch * widthBefore(s);
                    for (int i = 0; i < n; i++) {
                        gb.put(i, gb.get(i) * derivative(s.activation, out.get(i)));
                    }
                }
                case DROPOUT -> {
                    int n = batch * widthBefore(s);
                    for (int i = 0; i < n; i++) {
                        gb.put(i, gb.get(i) * s.mask[i]);
                    }
                }
            }
        }
        update();
        iteration++;
        return new double[]{lossSum, correct};
    }

    /**
     * The forward pass of a batch: each step's output into its buffer; dropout draws its masks from random, or is
     * skipped (inference mode) when random is null. Returns the last output.
     */
    private FloatPointer forward(FloatPointer in, int batch, SplittableRandom random) {
        FloatPointer cur = in;
        int width = inputWidth;
        for (Step s : steps) {
            FloatBuffer o = s.output.position(0).asBuffer();
            int n = batch * (s.kind == Kind.DENSE ? s.out : width);
            switch (s.kind) {
                case DENSE -> {
                    s.products(batch)[0].run(cur.position(0), new FloatPointer(params).position(s.wOffset),
                            s.bOffset < 0 ? null : new FloatPointer(params).position(s.bOffset), s.output.position(0));
                    width = s.out;
                }
                case ACTIVATION -> {
                    FloatBuffer c = cur.position(0).asBuffer();
                    if ("softmax".equals(s.activation)) {
                        for (int r = 0; r < batch; r++) {
                            float max = Float.NEGATIVE_INFINITY;
                            for (int j = 0; j < width; j++) {
                                max = Math.max(max, c.get(r * width + j));
                            }
                            double sum = 0;
                            for (int j = 0; j < width; j++) {
                                double e = Math.exp(c.get(r * width + j) - max);
                                o.put(r * width + j, (float) e);
                                sum += e;
                            }
                            for (int j = 0; j < width; j++) {
                                o.put(r * width + j, (float) (o.get(r * width + j) / sum));
                            }
                        }
                    } else {
                        for (int i = 0; i < n; i++) {
                            o.put(i, activate(s.activation, c.get(i)));
                        }
                    }
                }
                case DROPOUT -> {
                    if (random == null) {
                        continue;  // inference: the identity; cur stays the input of this step
                    }
                    FloatBuffer c = cur.position(0).asBuffer();
                    if (s.mask == null || s.mask.length < n) {
                        s.mask = new float[batch * width];
                    }
                    float scale = (float) (1 / s.keep);
                    for (int i = 0; i < n; i++) {
                        float m = random.nextDouble() < s.keep ? scale : 0f;
                        s.mask[i] = m;
                        o.put(i, c.get(i) * m);
                    }
                }
            }
            cur = s.output;
        }
        return cur;
    }

    /**
     * The head's outputs for x in inference mode (no dropout) with the weights as trained so far: what the model
     * would predict after a write-back, without one.
     */
    INDArray predict(INDArray x) {
        int batch = (int) x.size(0);
        if (batch == 0) {
            throw new IllegalArgumentException("an empty batch");
        }
        ensureCapacity(batch);
        INDArray xc = compact(x);
        if (xc.length() != (long) batch * inputWidth) {
            throw new IllegalArgumentException("the head expects " + inputWidth + " features per example, got shape "
                    + java.util.Arrays.toString(x.shape()));
        }
        FloatPointer out = forward(new FloatPointer(xc.data().addressPointer()), batch, null);
        int width = outputWidth();
        float[] values = new float[batch * width];
        out.position(0).get(values);
        return FloatArrays.of(values, batch, width);
    }

    private int outputWidth() {
        int w = inputWidth;
        for (Step s : steps) {
            if (s.kind == Kind.DENSE) {
                w = s.out;
            }
        }
        return w;
    }

    private static INDArray compact(INDArray x) {
        return x.dataType() == DataType.FLOAT && x.ordering() == 'c' && !x.isView() && x.offset() == 0
                ? x : x.castTo(DataType.FLOAT).dup('c');
    }

    private static float activate(String fn, float v) {
        return switch (fn) {
            case "relu" -> Math.max(0f, v);
            case "sigmoid" -> (float) (1 / (1 + Math.exp(-v)));
            case "tanh" -> (float) Math.tanh(v);
            default -> v;
        };
    }

    /** The activation's derivative, from its output. */
    private static float derivative(String fn, float out) {
        return switch (fn) {
            case "relu" -> out > 0 ? 1f : 0f;
            case "sigmoid" -> out * (1 - out);
            case "tanh" -> 1 - out * out;
            default -> 1f;
        };
    }

    /**
     * One pass of the optimizer over all weights ({@link FlatOptimizer}: vectorized, chunks shared with helper
     * threads).
     */
    private void update() {
        for (long[] r : untiled) {
            optimizer.step(iteration, params, grads, r[2], state, numParams, r[0], r[1]);
        }
    }

    /**
     * The optimizer step of a tiled layer's weights, a tile of rows of W^T at a time: the tile's gradient
     * (g^T rows o..o+r, made compact, times the layer's input) computed by oneDNN into a buffer that stays in cache,
     * then the optimizer's pass over those weights and their state. Per weight the same arithmetic as the untiled
     * step; what is saved is writing the whole gradient to memory and reading it back (8 of the 20 bytes RMSprop
     * moves per weight).
     */
    private void stepTiled(Step s, int batch, FloatPointer g, FloatPointer input) {
        MatMul[] p = s.products(batch);
        FloatBuffer gb = g.position(0).asBuffer();
        FloatBuffer slice = gradSlice.position(0).limit((long) s.tileRows * batch).asBuffer();
        for (int o = 0; o < s.out; o += s.tileRows) {
            int rows = Math.min(s.tileRows, s.out - o);
            for (int j = 0; j < rows; j++) {
                for (int r = 0; r < batch; r++) {
                    slice.put(j * batch + r, gb.get(r * s.out + o + j));
                }
            }
            (rows == s.tileRows ? p[3] : p[4]).run(gradSlice.position(0), input.position(0), null, tile.position(0));
            optimizer.step(iteration, params, tile, 0, state, numParams, s.wOffset + (long) o * s.in,
                    (long) rows * s.in);
        }
    }
}
