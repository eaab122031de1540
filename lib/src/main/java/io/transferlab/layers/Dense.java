package io.transferlab.layers;

import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

/** Keras's Dense on a flat input: kernel (in, units) and bias (units). */
public class Dense extends Layer {
    private final int units;
    private String activation = "linear";
    private boolean useBias = true;

    public Dense(int units, String activation, String name) {
        super(name);
        if (units <= 0) {
            throw new IllegalArgumentException("Dense needs a positive number of units, got " + units);
        }
        this.units = units;
        this.activation = Activations.check(activation);
    }

    public int units() {
        return units;
    }

    public String activation() {
        return activation;
    }

    public Dense useBias(boolean value) {
        this.useBias = value;
        return this;
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape s = in.get(0);
        if (s.rank() != 1) {
            throw new IllegalArgumentException("Dense '" + name() + "' needs a flat input, got " + s
                    + ": put a Flatten() or GlobalAveragePooling2D() before it");
        }
        return Shape.of(units);
    }

    @Override
    protected List<WeightSpec> buildWeights(List<Shape> in) {
        long n = in.get(0).get(0);
        return useBias
                ? List.of(new WeightSpec("kernel", new long[]{n, units}, true), new WeightSpec("bias", new long[]{units}, true))
                : List.of(new WeightSpec("kernel", new long[]{n, units}, true));
    }

    @Override
    public Object toDl4j(List<Shape> in) {
        return new DenseLayer.Builder().nIn(in.get(0).get(0)).nOut(units)
                .activation(Activations.dl4j(activation))
                .hasBias(useBias)
                .weightInit(WeightInit.XAVIER_UNIFORM)
                .build();
    }

    /** The same layer as a DL4J output layer that also computes the training loss (same parameters). */
    public org.deeplearning4j.nn.conf.layers.Layer toDl4jOutput(List<Shape> in, org.nd4j.linalg.lossfunctions.ILossFunction loss) {
        return new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder(loss).nIn(in.get(0).get(0)).nOut(units)
                .activation(Activations.dl4j(activation))
                .hasBias(useBias)
                .weightInit(WeightInit.XAVIER_UNIFORM)
                .build();
    }

    @Override
    public Map<String, INDArray> toDl4jParams(List<INDArray> k) {
        return useBias ? Map.of("W", k.get(0), "b", k.get(1).reshape(1, units)) : Map.of("W", k.get(0));
    }

    @Override
    public List<INDArray> fromDl4jParams(Map<String, INDArray> p) {
        return useBias ? List.of(p.get("W").dup(), p.get("b").reshape(units).dup()) : List.of(p.get("W").dup());
    }
}
