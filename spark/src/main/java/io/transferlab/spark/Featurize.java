package io.transferlab.spark;

import io.transferlab.data.Images;
import io.transferlab.data.Preprocessing;
import org.apache.spark.sql.SparkSession;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Command line (spark-submit's main class): featurize folders of class folders into Parquet, train the head on
 * the driver from those features, or fit an MLlib pipeline and write batch predictions.
 *
 * <pre>
 * featurize --input DIR --output DIR [--validation DIR --validation-output DIR]
 * head      --train-features DIR --validation-features DIR [--epochs 15]
 * predict   --train DIR --input DIR --output DIR [--format csv|parquet] [--max-iter 100] [--reg 0.01]
 *
 * model options (all commands that run the base):
 *   --model MobileNet --option alpha=0.25 --option includeTop=false --option pooling=avg
 *   --weights FILE (a path on every node, or the bare name of a file given to spark-submit --files)
 *   --size 224 --interpolation bilinear|nearest --preprocessing tf|caffe|rescale|none --batch 32
 * common: --overwrite, --master URL (only when not run by spark-submit)
 * </pre>
 */
public final class Featurize {
    private Featurize() {
    }

    public static void main(String[] args) {
        if (args.length == 0 || args[0].equals("--help")) {
            System.out.println(usage());
            return;
        }
        String command = args[0];
        Args a = new Args(args);
        SparkSession.Builder b = SparkSession.builder().appName("transferlab " + command);
        if (a.get("master") != null) {
            b.master(a.get("master"));
        }
        SparkSession spark = b.getOrCreate();
        try {
            switch (command) {
                case "featurize" -> {
                    ModelSpec spec = spec(a);
                    if (a.get("validation") != null) {
                        SparkFeatures.featurize(spark, spec, a.require("input"), a.require("validation"),
                                a.require("output"), a.require("validation-output"), a.flag("overwrite"));
                    } else {
                        SparkFeatures.featurize(spark, spec, a.require("input"), a.require("output"), a.flag("overwrite"));
                    }
                }
                case "head" -> {
                    int classes = spark.read().parquet(a.require("train-features")).select("label").distinct()
                            .collectAsList().size();
                    var train = SparkFeatures.read(spark, a.require("train-features"), classes);
                    var val = SparkFeatures.read(spark, a.require("validation-features"), classes);
                    var head = SparkFeatures.head(train.features().size(1), classes);
                    var h = SparkFeatures.trainHead(head, train, val, Integer.parseInt(a.get("epochs", "15")));
                    System.out.printf(Locale.ROOT, "head trained on %d examples: validation accuracy %.4f (%d examples)%n",
                            train.size(), h.last().valAccuracy(), val.size());
                }
                case "predict" -> {
                    ModelSpec spec = spec(a);
                    var model = SparkClassifier.fit(spark, spec, a.require("train"),
                            Integer.parseInt(a.get("max-iter", "100")), Double.parseDouble(a.get("reg", "0.01")));
                    long n = SparkClassifier.predictFolder(spark, model, a.require("input"), a.require("output"),
                            a.get("format", "csv"), a.flag("overwrite"));
                    System.out.println("Wrote " + n + " predictions (path, predicted_class, probability) to " + a.get("output"));
                }
                default -> throw new IllegalArgumentException("Unknown command '" + command + "'\n" + usage());
            }
        } finally {
            spark.stop();
        }
    }

    static ModelSpec spec(Args a) {
        ModelSpec s = ModelSpec.of(a.get("model", "MobileNet"));
        for (String o : a.all("option")) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--option takes name=value, got '" + o + "'");
            }
            s.option(o.substring(0, eq), o.substring(eq + 1));
        }
        if (a.get("size") != null) {
            int n = Integer.parseInt(a.get("size"));
            s.targetSize(n, n);
        }
        if (a.get("weights") != null) {
            s.weights(a.get("weights"));
        }
        if (a.get("interpolation") != null) {
            s.interpolation(Images.Interpolation.valueOf(a.get("interpolation").toUpperCase(Locale.ROOT)));
        }
        if (a.get("preprocessing") != null) {
            s.preprocessing(Preprocessing.valueOf(a.get("preprocessing").toUpperCase(Locale.ROOT)));
        }
        if (a.get("batch") != null) {
            s.batchSize(Integer.parseInt(a.get("batch")));
        }
        return s;
    }

    static String usage() {
        return """
                usage: Featurize COMMAND [options]
                  featurize --input DIR --output DIR [--validation DIR --validation-output DIR] [--overwrite]
                  head      --train-features DIR --validation-features DIR [--epochs 15]
                  predict   --train DIR --input DIR --output DIR [--format csv|parquet] [--max-iter 100] [--reg 0.01]
                model: --model MobileNet --option alpha=0.25 --option includeTop=false --option pooling=avg
                       --weights FILE --size 224 --interpolation bilinear|nearest --preprocessing tf|caffe|rescale|none
                       --batch 32
                common: --overwrite, --master URL (only outside spark-submit)""";
    }

    /** --name value pairs (repeatable) and --flags. */
    static final class Args {
        private final List<String[]> pairs = new ArrayList<>();

        Args(String[] args) {
            for (int i = 1; i < args.length; i++) {
                if (!args[i].startsWith("--")) {
                    throw new IllegalArgumentException("Unexpected argument '" + args[i] + "'\n" + usage());
                }
                String name = args[i].substring(2);
                if (name.equals("overwrite")) {
                    pairs.add(new String[]{name, "true"});
                } else {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException("--" + name + " needs a value");
                    }
                    pairs.add(new String[]{name, args[++i]});
                }
            }
        }

        String get(String name) {
            String v = null;
            for (String[] p : pairs) {
                if (p[0].equals(name)) {
                    v = p[1];
                }
            }
            return v;
        }

        String get(String name, String fallback) {
            String v = get(name);
            return v == null ? fallback : v;
        }

        String require(String name) {
            String v = get(name);
            if (v == null) {
                throw new IllegalArgumentException("Missing --" + name + "\n" + usage());
            }
            return v;
        }

        boolean flag(String name) {
            return "true".equals(get(name));
        }

        List<String> all(String name) {
            return pairs.stream().filter(p -> p[0].equals(name)).map(p -> p[1]).toList();
        }
    }
}
