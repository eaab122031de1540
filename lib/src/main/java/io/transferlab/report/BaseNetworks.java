package io.transferlab.report;

import io.transferlab.applications.ApplicationBuilder;
import io.transferlab.applications.Applications;
import io.transferlab.graph.Functional;
import io.transferlab.layers.Layer;
import io.transferlab.models.Model;
import io.transferlab.runtime.Display;
import io.transferlab.runtime.MixedPrecision;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.awt.image.BufferedImage;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Base networks side by side, in the spirit of the table on Keras's applications page: for each network its
 * parameters, depth (layers with weights, as Keras's table counts them), the size of its float32 weights, the shape
 * of the features it gives without its top, and the CPU time per image of {@link Model#predict} (the fast inference
 * plan the notebooks use) on this machine at the network's own input size. Every figure is measured or counted here;
 * none is copied from Keras's page. The timing runs the classifier with its ImageNet top on random pixels (the time
 * does not depend on the weights' values), after one warm-up call that builds the plan. Where the CPU computes
 * bfloat16 natively, the same calls are timed again under Keras's {@code mixed_bfloat16} policy
 * ({@link MixedPrecision}), in a column of their own; the policy in force before is restored.
 */
public final class BaseNetworks implements Display.Html {
    /** One network's row. */
    public record Row(String network, int inputSize, long params, int depth, double weightsMb, String features,
                      double msPerImage, double msPerImageBf16) {
    }

    private final List<Row> rows = new ArrayList<>();
    private final String cpu;

    private BaseNetworks(String cpu) {
        this.cpu = cpu;
    }

    /**
     * Measures the named networks (Keras's names, see {@link Applications#names()}): a batch of {@code batch} images,
     * the median of {@code repeats} timed calls. Prints one progress line per network.
     */
    public static BaseNetworks measure(List<String> networks, int batch, int repeats) {
        return measure(networks, batch, repeats, line -> System.out.println(line));
    }

    static BaseNetworks measure(List<String> networks, int batch, int repeats, Consumer<String> progress) {
        if (batch < 1 || repeats < 1) {
            throw new IllegalArgumentException("batch and repeats must be at least 1, got " + batch + " and " + repeats);
        }
        BaseNetworks b = new BaseNetworks(io.transferlab.runtime.Backend.cpuName());
        for (String name : networks) {
            ApplicationBuilder<?> builder = Applications.byName(name);
            int size = builder.defaultInputSize();
            Model full = builder.build();
            Model base = Applications.byName(name).includeTop(false).inputShape(size, size, 3).build();
            INDArray x = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, batch, size, size, 3).muli(2).subi(1);
            full.predict(x); // builds the plan
            double[] ms = new double[repeats];
            for (int r = 0; r < repeats; r++) {
                long t0 = System.nanoTime();
                full.predict(x);
                ms[r] = (System.nanoTime() - t0) / 1e6 / batch;
            }
            double median = median(ms);
            double bf16 = Double.NaN;
            if (MixedPrecision.bf16Unsupported() == null) { // the same calls under Keras's mixed_bfloat16 policy
                String before = MixedPrecision.policy();
                try {
                    MixedPrecision.set(MixedPrecision.MIXED_BFLOAT16);
                    full.predict(x);
                    for (int r = 0; r < repeats; r++) {
                        long t0 = System.nanoTime();
                        full.predict(x);
                        ms[r] = (System.nanoTime() - t0) / 1e6 / batch;
                    }
                    bf16 = median(ms);
                } finally {
                    MixedPrecision.set(before);
                }
            }
            Row row = new Row(name, size, full.countParams(), depth(full), full.countParams() * 4 / 1e6,
                    base.outputShape().toString(), median, bf16);
            b.rows.add(row);
            progress.accept(String.format("%-14s %,13d params  %6.1f ms/image", name, row.params(), median)
                    + (Double.isNaN(bf16) ? "" : String.format("  (mixed_bfloat16: %.1f)", bf16)));
        }
        progress.accept(b.rows.size() + " networks measured on " + b.cpu);
        return b;
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /** Layers with weights, counted through nested models (Keras's "depth" column counts these). */
    static int depth(Functional model) {
        int n = 0;
        for (Functional.Leaf leaf : model.leaves()) {
            Layer l = leaf.layer();
            if (!l.weightSpecs().isEmpty()) {
                n++;
            }
        }
        return n;
    }

    public List<Row> rows() {
        return List.copyOf(rows);
    }

    /** The rows as a Tablesaw table. */
    public Table table() {
        Table t = Table.create("base networks (" + cpu + ")",
                StringColumn.create("network", rows.stream().map(Row::network).toList()),
                IntColumn.create("input", rows.stream().mapToInt(Row::inputSize).toArray()),
                LongColumn.create("params", rows.stream().mapToLong(Row::params).toArray()),
                IntColumn.create("depth", rows.stream().mapToInt(Row::depth).toArray()),
                DoubleColumn.create("weights MB", rows.stream().mapToDouble(Row::weightsMb)),
                StringColumn.create("features (no top)", rows.stream().map(Row::features).toList()),
                DoubleColumn.create("ms/image (CPU)", rows.stream().mapToDouble(Row::msPerImage)));
        if (rows.stream().anyMatch(r -> !Double.isNaN(r.msPerImageBf16()))) {
            t.addColumns(DoubleColumn.create("ms/image (mixed_bfloat16)", rows.stream().mapToDouble(Row::msPerImageBf16)));
            t.doubleColumn("ms/image (mixed_bfloat16)").setPrintFormatter(new DecimalFormat("0.0"), "");
        }
        t.longColumn("params").setPrintFormatter(new tech.tablesaw.columns.numbers.NumberColumnFormatter(new DecimalFormat("#,##0")));
        t.doubleColumn("weights MB").setPrintFormatter(new DecimalFormat("0.0"), "");
        t.doubleColumn("ms/image (CPU)").setPrintFormatter(new DecimalFormat("0.0"), "");
        return t;
    }

    /** Time per image against parameters (log scales), one labelled point per network. */
    public BufferedImage plot() {
        XYChart chart = new XYChartBuilder().width(760).height(480)
                .title("CPU time per image against parameters (" + cpu + ")")
                .xAxisTitle("parameters (millions)").yAxisTitle("ms per image").build();
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(10);
        for (Row r : rows) {
            XYSeries s = chart.addSeries(r.network(), new double[]{r.params() / 1e6}, new double[]{r.msPerImage()});
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        return BitmapEncoder.getBufferedImage(chart);
    }

    @Override
    public String toHtml() {
        return Tables.html(table());
    }

    @Override
    public String toString() {
        return table().print();
    }
}
