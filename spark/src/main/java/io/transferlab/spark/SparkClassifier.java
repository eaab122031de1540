package io.transferlab.spark;

import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

import static org.apache.spark.sql.functions.*;

/**
 * Transfer learning as a Spark ML Pipeline (Deep Learning Pipelines' recipe): {@link ImageFeaturizer} (the frozen
 * base) then MLlib's LogisticRegression on its features; and batch prediction of a folder of images into
 * (path, predicted class, probability) as CSV or Parquet.
 */
public final class SparkClassifier {
    /** The fitted pipeline and the class names its label indices stand for (class folders in name order). */
    public record Trained(PipelineModel pipeline, List<String> classes) {
    }

    private SparkClassifier() {
    }

    /** Fits featurizer + logistic regression on a folder of class folders. */
    public static Trained fit(SparkSession spark, ModelSpec spec, String trainDir, int maxIter, double regParam) {
        SparkFeatures.Listing listing = SparkFeatures.list(spark, trainDir);
        if (listing.classes().size() < 2) {
            throw new IllegalArgumentException(trainDir + " has " + listing.classes().size() + " class folder(s) "
                    + listing.classes() + ": a classifier needs at least 2");
        }
        var lr = new LogisticRegression().setFeaturesCol("features").setLabelCol("label_index")
                .setMaxIter(maxIter).setRegParam(regParam);
        var pipeline = new Pipeline().setStages(new PipelineStage[]{new ImageFeaturizer(spec), lr});
        Dataset<Row> train = SparkFeatures.images(spark, listing)
                .withColumn("label_index", col("label_index").cast("double"));
        return new Trained(pipeline.fit(train), listing.classes());
    }

    /** Accuracy of a fitted pipeline on a folder of class folders (which must have the training classes). */
    public static double accuracy(SparkSession spark, Trained model, String dir) {
        SparkFeatures.Listing listing = SparkFeatures.list(spark, dir);
        if (!listing.classes().equals(model.classes())) {
            throw new IllegalArgumentException("Class folders differ: the model was trained on " + model.classes() + ", "
                    + dir + " has " + listing.classes());
        }
        Row r = model.pipeline().transform(SparkFeatures.images(spark, listing))
                .agg(avg(when(col("prediction").equalTo(col("label_index")), 1.0).otherwise(0.0))).first();
        return r.getDouble(0);
    }

    /**
     * Predictions for every image under a folder (any layout, recursive): path, predicted_class (a class name),
     * probability (of that class), ordered by path. Corrupt images are left out (and counted by the featurizer).
     */
    public static Dataset<Row> predict(SparkSession spark, Trained model, String dir) {
        Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(dir)
                .filter(lower(col("path")).rlike("\\.(" + String.join("|", new TreeSet<>(io.transferlab.data.Images.EXTENSIONS)) + ")$"))
                .select("path", "content");
        Column names = array(model.classes().stream().map(c -> lit(c)).toArray(Column[]::new));
        return model.pipeline().transform(files)
                .select(col("path"),
                        element_at(names, col("prediction").cast("int").plus(1)).as("predicted_class"),
                        array_max(org.apache.spark.ml.functions.vector_to_array(col("probability"), "float64"))
                                .as("probability"))
                .orderBy("path");
    }

    /** Writes {@link #predict} to {@code output} as CSV (with a header) or Parquet; returns the number of rows. */
    public static long predictFolder(SparkSession spark, Trained model, String dir, String output, String format,
                                     boolean overwrite) {
        String f = format.toLowerCase(Locale.ROOT);
        if (!f.equals("csv") && !f.equals("parquet")) {
            throw new IllegalArgumentException("format must be csv or parquet, got " + format);
        }
        SparkFeatures.checkOutput(spark, output, overwrite);
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(dir);
        try {
            var fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (!fs.exists(p)) {
                throw new IllegalArgumentException("Image folder not found: " + dir);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Dataset<Row> predictions = predict(spark, model, dir).cache();
        long n = predictions.count();
        if (n == 0) {
            predictions.unpersist();
            throw new IllegalArgumentException("No images to predict in " + dir + " (files ending in "
                    + new TreeSet<>(io.transferlab.data.Images.EXTENSIONS) + ")");
        }
        var w = predictions.coalesce(1).write().mode(overwrite ? "overwrite" : "errorifexists");
        if (f.equals("csv")) {
            w.option("header", "true").csv(output);
        } else {
            w.parquet(output);
        }
        predictions.unpersist();
        return n;
    }
}
