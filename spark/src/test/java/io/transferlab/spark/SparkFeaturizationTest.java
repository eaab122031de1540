package io.transferlab.spark;

import io.transferlab.data.ClassMode;
import io.transferlab.data.ImageFolder;
import io.transferlab.data.Images;
import io.transferlab.data.Preprocessing;
import io.transferlab.inference.Features;
import io.transferlab.layers.Layer;
import io.transferlab.models.Model;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real thing: the real MobileNet 0.25 (ImageNet weights) on real cats and dogs, on Spark in local mode against
 * the library's single-machine path (ImageFolder + Features.extract) on the same images. Needs $TL_SHARED.
 */
class SparkFeaturizationTest {
    static final int TRAIN_PER_CLASS = 30;
    static final int VAL_PER_CLASS = 20;
    /** 60 images are 2 steps an epoch: the head needs many epochs (each takes milliseconds). */
    static final int HEAD_EPOCHS = 150;

    @TempDir
    static Path tmp;
    static Path shared;

    @BeforeAll
    static void data() throws Exception {
        shared = SparkTestSupport.shared();
        if (shared == null) {
            return;
        }
        Path root = shared.resolve("data/cats_and_dogs_filtered");
        SparkTestSupport.copyFirst(root.resolve("train"), tmp.resolve("train"), TRAIN_PER_CLASS);
        SparkTestSupport.copyFirst(root.resolve("validation"), tmp.resolve("validation"), VAL_PER_CLASS);
    }

    static ImageFolder folder(Path dir) {
        return ImageFolder.at(dir).targetSize(224, 224).batchSize(32).classMode(ClassMode.BINARY)
                .preprocessing(Preprocessing.TF).interpolation(Images.Interpolation.BILINEAR).shuffle(false).build();
    }

    /** max over images of (max |spark - local| / max |local|) over the image's features. */
    static double maxRelativeDifference(INDArray spark, INDArray local) {
        double worst = 0;
        for (int i = 0; i < local.size(0); i++) {
            double scale = local.getRow(i).amaxNumber().doubleValue();
            double diff = spark.getRow(i).sub(local.getRow(i)).amaxNumber().doubleValue();
            worst = Math.max(worst, diff / Math.max(scale, 1e-12));
        }
        return worst;
    }

    /**
     * Features on Spark equal Features.extract's for the same images (same order: class, then name), and a head
     * trained from the Parquet features reaches the same validation accuracy as one trained (from the same initial
     * weights) on the single-machine features.
     */
    @Test
    void sparkFeaturesEqualTheSingleMachinePathAndTrainTheSameHead() {
        assumeTrue(shared != null, SparkTestSupport.NO_SHARED);
        var spark = SparkTestSupport.spark();
        ModelSpec spec = SparkTestSupport.realSpec(shared);
        var summaries = SparkFeatures.featurize(spark, spec, tmp.resolve("train").toString(),
                tmp.resolve("validation").toString(), tmp.resolve("f-train").toString(), tmp.resolve("f-val").toString(), false);
        assertEquals(2 * TRAIN_PER_CLASS, summaries[0].images());
        assertEquals(2 * VAL_PER_CLASS, summaries[1].images());
        assertEquals(0, summaries[0].corrupt() + summaries[1].corrupt());
        assertEquals(256, summaries[0].featureLength());

        var sparkTrain = SparkFeatures.read(spark, tmp.resolve("f-train").toString(), 2);
        var sparkVal = SparkFeatures.read(spark, tmp.resolve("f-val").toString(), 2);

        Model base = spec.build(); // a model of its own, as a separate single-machine run would have
        var localTrain = Features.extract(base, folder(tmp.resolve("train")));
        var localVal = Features.extract(base, folder(tmp.resolve("validation")));
        assertEquals(localTrain.files(), sparkTrain.paths().stream().map(p -> Path.of(URI.create(p))).toList());
        assertEquals(localVal.files(), sparkVal.paths().stream().map(p -> Path.of(URI.create(p))).toList());
        assertEquals(localTrain.labels(), sparkTrain.labels());
        assertEquals(localVal.labels(), sparkVal.labels());
        double rel = Math.max(maxRelativeDifference(sparkTrain.features(), localTrain.flat()),
                maxRelativeDifference(sparkVal.features(), localVal.flat()));
        double abs = Math.max(sparkTrain.features().sub(localTrain.flat()).amaxNumber().doubleValue(),
                sparkVal.features().sub(localVal.flat()).amaxNumber().doubleValue());
        System.out.printf("FEATURES spark vs Features.extract over %d images: max relative difference %.3g, max absolute %.3g%n",
                sparkTrain.size() + sparkVal.size(), rel, abs);
        assertTrue(rel <= 1e-5, "max relative difference " + rel);

        Model sparkHead = SparkFeatures.head(256, 2);
        Model localHead = SparkFeatures.head(256, 2);
        copyWeights(sparkHead, localHead);
        var hs = SparkFeatures.trainHead(sparkHead, sparkTrain, sparkVal, HEAD_EPOCHS);
        var hl = localHead.fit(localTrain.flat(), localTrain.labels(), HEAD_EPOCHS, 32, localVal.flat(), localVal.labels());
        double accSpark = hs.last().valAccuracy();
        double accLocal = hl.last().valAccuracy();
        System.out.printf("HEAD validation accuracy after " + HEAD_EPOCHS + " epochs: from Spark's Parquet %.4f, single machine %.4f (%d images)%n",
                accSpark, accLocal, sparkVal.size());
        assertEquals(accLocal, accSpark, 1e-9);
        assertTrue(accSpark >= 0.8, "the real features should separate cats from dogs: " + accSpark);
    }

    /** Deep Learning Pipelines' recipe: featurizer + MLlib logistic regression, then batch prediction to CSV. */
    @Test
    void mllibPipelineClassifiesAndBatchPredictionWritesPathClassProbability() {
        assumeTrue(shared != null, SparkTestSupport.NO_SHARED);
        var spark = SparkTestSupport.spark();
        var spec = SparkTestSupport.realSpec(shared);
        var model = SparkClassifier.fit(spark, spec, tmp.resolve("train").toString(), 100, 0.01);
        String out = tmp.resolve("predictions").toString();
        long n = SparkClassifier.predictFolder(spark, model, tmp.resolve("validation").toString(), out, "csv", false);
        assertEquals(2 * VAL_PER_CLASS, n);
        List<Row> rows = spark.read().option("header", "true").option("inferSchema", "true").csv(out)
                .orderBy("path").collectAsList();
        assertEquals(List.of("path", "predicted_class", "probability"), List.of(rows.get(0).schema().fieldNames()));
        assertEquals(n, rows.size());
        long right = 0;
        for (Row r : rows) {
            String cls = r.getString(1);
            double p = r.getDouble(2);
            assertTrue(cls.equals("cats") || cls.equals("dogs"), cls);
            assertTrue(p >= 0.5 && p <= 1.0, "probability of the top class " + p);
            right += r.getString(0).contains("/" + cls + "/") ? 1 : 0;
        }
        double acc = right / (double) n;
        System.out.printf("MLLIB logistic regression on Spark features, batch prediction: validation accuracy %.4f "
                + "(%d images)%n", acc, n);
        assertTrue(acc >= 0.8, "accuracy " + acc);
        var e = assertThrows(IllegalArgumentException.class,
                () -> SparkClassifier.predictFolder(spark, model, tmp.resolve("validation").toString(), out, "csv", false));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
    }

    static void copyWeights(Model from, Model to) {
        List<Layer> a = from.layers();
        List<Layer> b = to.layers();
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i).getWeights() != null && !a.get(i).getWeights().isEmpty()) {
                b.get(i).setWeights(a.get(i).getWeights().stream().map(INDArray::dup).toList());
            }
        }
    }
}
