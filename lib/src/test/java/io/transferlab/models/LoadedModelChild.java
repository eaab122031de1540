package io.transferlab.models;

import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;

/** Run by SaveLoadModelTest in a new JVM: loads a saved model, predicts on the given input, writes the output. */
public final class LoadedModelChild {
    private LoadedModelChild() {
    }

    public static void main(String[] args) throws Exception {
        Model m = Model.load(Path.of(args[0]));
        float[] x = SaveLoadModelTest.readFloats(Path.of(args[1]));
        long[] shape;
        try (var in = new java.io.DataInputStream(java.nio.file.Files.newInputStream(Path.of(args[1])))) {
            shape = new long[in.readInt()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = in.readLong();
            }
        }
        var y = m.predict(Nd4j.create(x, shape, 'c'));
        SaveLoadModelTest.writeFloats(Path.of(args[2]), y.shape(), SaveLoadModelTest.flat(y));
        System.out.println("loaded " + m.name() + ", classes " + m.classNames());
        System.exit(0);
    }
}
