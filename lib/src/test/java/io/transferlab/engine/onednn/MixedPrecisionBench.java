package io.transferlab.engine.onednn;

import io.transferlab.applications.Applications;
import io.transferlab.models.Model;
import io.transferlab.runtime.Backend;
import io.transferlab.runtime.MixedPrecision;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * float32 against mixed_bfloat16 on {@code Model.predict}, the call notebooks make: VGG16 conv base (or InceptionV3,
 * MobileNet), random weights, a fixed seeded batch. Both plans are compiled and warmed up first; then rounds
 * alternate between the two policies (so a change in the machine's load hits both), and the medians are printed with
 * the CPU, the load average before and after, and the oneDNN kernels each plan runs. Run by bench/bf16.sh:
 *
 * <pre>MixedPrecisionBench [vgg|inception|mobilenet] [rounds] [batches per round]</pre>
 */
public final class MixedPrecisionBench {
    private MixedPrecisionBench() {
    }

    public static void main(String[] args) throws Exception {
        String which = args.length > 0 ? args[0] : "vgg";
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        int perRound = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        Backend.init();
        int size = switch (which) {
            case "vgg" -> 150;
            case "inception" -> 150;
            case "mobilenet" -> 224;
            default -> throw new IllegalArgumentException("unknown workload '" + which + "' (vgg, inception, mobilenet)");
        };
        Model model = switch (which) {
            case "vgg" -> Applications.vgg16().includeTop(false).inputShape(size, size, 3).build();
            case "inception" -> Applications.inceptionV3().includeTop(false).inputShape(size, size, 3).build().upTo("mixed7");
            default -> Applications.mobileNet().includeTop(false).inputShape(size, size, 3).build();
        };
        int batch = 20;
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, size, size, 3).muli(255);
        System.out.printf("workload %s %dx%d batch %d, Model.predict; CPU %s; oneDNN %d.%d.%d, effective ISA %s%n",
                which, size, size, batch, Backend.cpuName(), org.bytedeco.dnnl.global.dnnl.DNNL_VERSION_MAJOR,
                org.bytedeco.dnnl.global.dnnl.DNNL_VERSION_MINOR, org.bytedeco.dnnl.global.dnnl.DNNL_VERSION_PATCH,
                org.bytedeco.dnnl.global.dnnl.get_effective_cpu_isa());
        System.out.println("load average before: " + loadAverage());
        String bf16Why = MixedPrecision.bf16Unsupported();
        List<String> policies = bf16Why == null ? List.of("float32", "mixed_bfloat16") : List.of("float32");
        if (bf16Why != null) {
            System.out.println("no bf16 row: " + bf16Why);
        }
        INDArray ref = null;
        for (String p : policies) { // compile and warm up each plan
            MixedPrecision.set(p);
            INDArray y = model.predict(x);
            model.predict(x);
            InferencePlan plan = (InferencePlan) OneDnnEngine.get().anyPlan(model);
            System.out.printf("%-15s %s; kernels %s%n", p, plan.describe(), plan.implementations());
            if (ref == null) {
                ref = y;
            } else {
                double err = org.nd4j.linalg.ops.transforms.Transforms.abs(ref.sub(y)).maxNumber().doubleValue()
                        / org.nd4j.linalg.ops.transforms.Transforms.abs(ref).maxNumber().doubleValue();
                System.out.printf("bf16 outputs: max relative difference from float32 %.2e%n", err);
            }
        }
        List<List<Double>> rates = new ArrayList<>();
        policies.forEach(p -> rates.add(new ArrayList<>()));
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < policies.size(); k++) {
                MixedPrecision.set(policies.get(k));
                long t0 = System.nanoTime();
                for (int i = 0; i < perRound; i++) {
                    model.predict(x);
                }
                double s = (System.nanoTime() - t0) / 1e9;
                rates.get(k).add(perRound * batch / s);
            }
        }
        MixedPrecision.set("float32");
        System.out.println("load average after: " + loadAverage());
        double base = 0;
        for (int k = 0; k < policies.size(); k++) {
            List<Double> v = new ArrayList<>(rates.get(k));
            double med = median(v);
            if (k == 0) {
                base = med;
            }
            System.out.printf("RESULT %s %-15s median %.1f img/s over %d rounds of %d batches (all: %s)%s%n", which,
                    policies.get(k), med, rounds, perRound, format(rates.get(k)),
                    k == 0 ? "" : String.format(", %.2fx float32", med / base));
        }
    }

    private static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static String format(List<Double> v) {
        return Arrays.toString(v.stream().mapToDouble(d -> Math.round(d * 10) / 10.0).toArray());
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
