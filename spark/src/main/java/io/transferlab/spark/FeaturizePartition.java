package io.transferlab.spark;

import io.transferlab.data.Images;
import io.transferlab.models.Model;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The work of one task: decodes the partition's images with the library's own code ({@link Images#load} on the
 * bytes, then the spec's {@link io.transferlab.data.Preprocessing}: what ImageFolder does to a file), runs them
 * through this JVM's model ({@link ModelSpec#model()}) a batch at a time with {@link Model#predict}, and appends
 * each image's features to its row (every input column except the image bytes is kept). An image that does not
 * decode is left out and counted, never failing the task. Rows come out in input order and depend only on the
 * partition's input, so a task Spark runs again gives the same rows.
 */
public final class FeaturizePartition implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    /** How the features column is typed: array&lt;float&gt; (Parquet, the driver-side head) or an ML Vector (MLlib). */
    public enum Output { ARRAY, VECTOR }

    private final ModelSpec spec;
    private final int pathIndex;
    private final int contentIndex;
    private final Output output;
    private final LongAccumulator images;
    private final LongAccumulator corrupt;
    private final CollectionAccumulator<String> corruptFiles;

    public FeaturizePartition(ModelSpec spec, StructType input, String pathCol, String contentCol, Output output,
                              LongAccumulator images, LongAccumulator corrupt, CollectionAccumulator<String> corruptFiles) {
        this.spec = spec;
        this.pathIndex = input.fieldIndex(pathCol);
        this.contentIndex = input.fieldIndex(contentCol);
        this.output = output;
        this.images = images;
        this.corrupt = corrupt;
        this.corruptFiles = corruptFiles;
    }

    /** The input's columns without the image bytes, then the features column. */
    public static StructType outputSchema(StructType input, String contentCol, String featuresCol, Output output) {
        List<StructField> fields = new ArrayList<>();
        for (StructField f : input.fields()) {
            if (!f.name().equals(contentCol)) {
                fields.add(f);
            }
        }
        fields.add(DataTypes.createStructField(featuresCol, output == Output.ARRAY
                ? DataTypes.createArrayType(DataTypes.FloatType, false)
                : new org.apache.spark.ml.linalg.VectorUDT(), false));
        return DataTypes.createStructType(fields);
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        return new Iterator<>() {
            private final ArrayList<Row> ready = new ArrayList<>();
            private int next;
            private Model model;

            @Override
            public boolean hasNext() {
                while (next >= ready.size() && rows.hasNext()) {
                    ready.clear();
                    next = 0;
                    fillBatch();
                }
                return next < ready.size();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.get(next++);
            }

            private void fillBatch() {
                int per = spec.height() * spec.width() * 3;
                List<Row> kept = new ArrayList<>();
                List<float[]> pixels = new ArrayList<>();
                while (kept.size() < spec.batchSize() && rows.hasNext()) {
                    Row r = rows.next();
                    String path = r.getString(pathIndex);
                    try {
                        float[] px = Images.load((byte[]) r.get(contentIndex), path, spec.height(), spec.width(),
                                spec.interpolation());
                        spec.preprocessing().apply(px);
                        pixels.add(px);
                        kept.add(r);
                    } catch (IOException | RuntimeException e) {
                        corrupt.add(1);
                        corruptFiles.add(path);
                        System.err.println("Warning: skipping " + path + ": " + e.getMessage());
                    }
                }
                if (kept.isEmpty()) {
                    return;
                }
                if (model == null) {
                    model = spec.model();
                }
                float[] all = new float[kept.size() * per];
                for (int i = 0; i < kept.size(); i++) {
                    System.arraycopy(pixels.get(i), 0, all, i * per, per);
                }
                var x = Nd4j.create(all, new long[]{kept.size(), spec.height(), spec.width(), 3}, 'c');
                var y = model.predict(x);
                var flat = y.reshape('c', kept.size(), y.length() / kept.size()).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
                for (int i = 0; i < kept.size(); i++) {
                    float[] f = flat.getRow(i).dup('c').toFloatVector();
                    ready.add(withFeatures(kept.get(i), f));
                }
                images.add(kept.size());
            }
        };
    }

    private Row withFeatures(Row r, float[] f) {
        Object[] values = new Object[r.length()];
        int k = 0;
        for (int i = 0; i < r.length(); i++) {
            if (i != contentIndex) {
                values[k++] = r.get(i);
            }
        }
        if (output == Output.ARRAY) {
            // boxed: Spark's row encoder takes an array<float> column as a Float[] or a Seq
            Float[] boxed = new Float[f.length];
            for (int i = 0; i < f.length; i++) {
                boxed[i] = f[i];
            }
            values[k] = boxed;
        } else {
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            values[k] = Vectors.dense(d);
        }
        return RowFactory.create(values);
    }
}
