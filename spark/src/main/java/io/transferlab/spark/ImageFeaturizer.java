package io.transferlab.spark;

import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML Transformer, the counterpart of Deep Learning Pipelines' DeepImageFeaturizer: turns a DataFrame with a
 * path and an image bytes column (Spark's binaryFile source, {@link SparkFeatures#images}) into one with a features
 * Vector column, so that MLlib estimators can sit behind it in a Pipeline:
 *
 * <pre>
 * new Pipeline().setStages(new PipelineStage[]{new ImageFeaturizer(spec), new StringIndexer()..., new LogisticRegression()})
 * </pre>
 *
 * Images that do not decode are dropped from the output and counted in the optional accumulators. Not persistable
 * (no MLWritable): keep the ModelSpec and refit, or save the MLlib stages after it.
 */
public final class ImageFeaturizer extends Transformer {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final ModelSpec spec;
    private String pathCol = "path";
    private String contentCol = "content";
    private String outputCol = "features";
    private transient SparkFeatures.Counters counters;

    public ImageFeaturizer(ModelSpec spec) {
        this(Identifiable$.MODULE$.randomUID("imageFeaturizer"), spec);
    }

    private ImageFeaturizer(String uid, ModelSpec spec) {
        this.uid = uid;
        this.spec = spec;
    }

    public ImageFeaturizer setPathCol(String name) {
        this.pathCol = name;
        return this;
    }

    public ImageFeaturizer setContentCol(String name) {
        this.contentCol = name;
        return this;
    }

    public ImageFeaturizer setOutputCol(String name) {
        this.outputCol = name;
        return this;
    }

    /** Accumulators that count images featurized and corrupt images skipped (registered on the driver). */
    public ImageFeaturizer setCounters(SparkFeatures.Counters value) {
        this.counters = value;
        return this;
    }

    public ModelSpec spec() {
        return spec;
    }

    @Override
    public String uid() {
        return uid;
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        Dataset<Row> df = dataset.toDF();
        StructType in = df.schema();
        StructType out = transformSchema(in);
        SparkFeatures.Counters c = counters != null ? counters
                : SparkFeatures.Counters.register(df.sparkSession(), "ImageFeaturizer " + uid);
        var fn = new FeaturizePartition(spec, in, pathCol, contentCol, FeaturizePartition.Output.VECTOR,
                c.images(), c.corrupt(), c.corruptFiles());
        return df.mapPartitions(fn, Encoders.row(out));
    }

    @Override
    public StructType transformSchema(StructType schema) {
        for (String c : new String[]{pathCol, contentCol}) {
            if (!java.util.Arrays.asList(schema.fieldNames()).contains(c)) {
                throw new IllegalArgumentException("ImageFeaturizer needs a column '" + c + "'; the input has "
                        + java.util.Arrays.toString(schema.fieldNames()) + " (read images with spark.read().format"
                        + "(\"binaryFile\") or SparkFeatures.images)");
            }
        }
        if (java.util.Arrays.asList(schema.fieldNames()).contains(outputCol)) {
            throw new IllegalArgumentException("ImageFeaturizer's output column '" + outputCol + "' exists already");
        }
        return FeaturizePartition.outputSchema(schema, contentCol, outputCol, FeaturizePartition.Output.VECTOR);
    }

    @Override
    public ImageFeaturizer copy(ParamMap extra) {
        ImageFeaturizer f = new ImageFeaturizer(uid, spec);
        f.pathCol = pathCol;
        f.contentCol = contentCol;
        f.outputCol = outputCol;
        f.counters = counters;
        return f;
    }
}
