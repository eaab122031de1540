package io.transferlab.report;

import io.transferlab.train.Evaluation;
import io.transferlab.train.History;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Charts as BufferedImages, which Java notebook kernels show inline: training curves as in the tutorials (dots
 * for training, a line for validation) and a confusion-matrix heat map. {@link #save} writes any of them as PNG.
 */
public final class Plots {
    private static final Color BLUE = new Color(31, 119, 180);
    private static final Color ORANGE = new Color(255, 127, 14);

    private Plots() {
    }

    /** "Training and validation accuracy": dots for training, a line for validation, per epoch. */
    public static BufferedImage accuracy(History h) {
        return curve(h, "accuracy", "Training and validation accuracy");
    }

    /** "Training and validation loss". */
    public static BufferedImage loss(History h) {
        return curve(h, "loss", "Training and validation loss");
    }

    /** Accuracy and loss side by side, the tutorials' two figures in one image. */
    public static BufferedImage accuracyAndLoss(History h) {
        return sideBySide(accuracy(h), loss(h));
    }

    private static BufferedImage curve(History h, String metric, String title) {
        if (h.size() == 0) {
            throw new IllegalArgumentException("History is empty: train for at least one epoch before plotting");
        }
        XYChart chart = new XYChartBuilder().width(560).height(380).title(title).xAxisTitle("epoch")
                .yAxisTitle(metric).build();
        style(chart);
        double[] epochs = h.epochs().stream().mapToDouble(e -> e.epoch()).toArray();
        XYSeries tr = chart.addSeries("Training " + metric, epochs, h.get(metric));
        tr.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        tr.setMarker(SeriesMarkers.CIRCLE);
        tr.setMarkerColor(BLUE);
        double[] val = h.get("val_" + metric);
        if (val.length > 0 && !Double.isNaN(val[0])) {
            XYSeries v = chart.addSeries("Validation " + metric, epochs, val);
            v.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            v.setMarker(SeriesMarkers.NONE);
            v.setLineColor(BLUE);
        }
        return BitmapEncoder.getBufferedImage(chart);
    }

    /** Several histories' validation accuracy on one chart (comparing strategies). */
    public static BufferedImage compare(String title, String metric, List<String> names, List<History> histories) {
        XYChart chart = new XYChartBuilder().width(640).height(400).title(title).xAxisTitle("epoch").yAxisTitle(metric).build();
        style(chart);
        for (int i = 0; i < names.size(); i++) {
            History h = histories.get(i);
            double[] epochs = h.epochs().stream().mapToDouble(e -> e.epoch()).toArray();
            XYSeries s = chart.addSeries(names.get(i), epochs, h.get(metric));
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        return BitmapEncoder.getBufferedImage(chart);
    }

    /** Confusion matrix as a heat map: rows are true classes, columns predicted, cells show counts. */
    public static BufferedImage confusionMatrix(Evaluation ev, List<String> classNames) {
        long[][] m = ev.confusionMatrix();
        int k = m.length;
        if (classNames.size() != k) {
            throw new IllegalArgumentException("Got " + classNames.size() + " class names for " + k + " classes");
        }
        List<String> xs = new ArrayList<>(classNames);
        List<String> ys = new ArrayList<>(classNames);
        List<Number[]> cells = new ArrayList<>();
        for (int t = 0; t < k; t++) {
            for (int p = 0; p < k; p++) {
                cells.add(new Number[]{p, k - 1 - t, m[t][p]});
            }
        }
        java.util.Collections.reverse(ys);
        HeatMapChart chart = new HeatMapChartBuilder().width(460).height(400)
                .title(String.format("Confusion matrix (accuracy %.3f)", ev.accuracy()))
                .xAxisTitle("predicted").yAxisTitle("true").build();
        chart.getStyler().setShowValue(true);
        chart.getStyler().setPlotContentSize(1);
        chart.getStyler().setRangeColors(new Color[]{new Color(247, 251, 255), new Color(107, 174, 214), new Color(8, 48, 107)});
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setValueFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        chart.addSeries("counts", xs, ys, cells);
        return BitmapEncoder.getBufferedImage(chart);
    }

    private static void style(XYChart chart) {
        var s = chart.getStyler();
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setLegendPosition(Styler.LegendPosition.InsideNE);
        s.setPlotGridLinesColor(new Color(230, 230, 230));
        chart.getStyler().setMarkerSize(7);
    }

    /** Images next to each other on a white background. */
    public static BufferedImage sideBySide(BufferedImage... images) {
        int w = IntStream.range(0, images.length).map(i -> images[i].getWidth()).sum();
        int h = IntStream.range(0, images.length).map(i -> images[i].getHeight()).max().orElse(1);
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        int x = 0;
        for (BufferedImage im : images) {
            g.drawImage(im, x, 0, null);
            x += im.getWidth();
        }
        g.dispose();
        return out;
    }

    /** Writes a chart as PNG. */
    public static void save(BufferedImage image, Path file) throws IOException {
        if (file.getParent() != null) {
            java.nio.file.Files.createDirectories(file.getParent());
        }
        javax.imageio.ImageIO.write(image, "png", file.toFile());
    }

    /**
     * The wrongly classified examples of an evaluation on an image folder, each with its true class, the predicted
     * one and the model's output: where the model goes wrong, at a glance.
     */
    public static BufferedImage misclassified(Evaluation ev, List<String> classNames, int max) {
        if (ev.files().isEmpty()) {
            throw new IllegalArgumentException("This evaluation has no image files (it ran on arrays): evaluate the "
                    + "model on an ImageFolder to see its mistakes");
        }
        int[] wrong = ev.misclassified();
        List<BufferedImage> images = new ArrayList<>();
        List<String> captions = new ArrayList<>();
        int[] truth = ev.trueClasses();
        int[] pred = ev.predictedClasses();
        for (int k = 0; k < wrong.length && images.size() < max; k++) {
            int i = wrong[k];
            try {
                images.add(io.transferlab.data.Images.read(ev.files().get(i)));
            } catch (IOException e) {
                continue;
            }
            double p = ev.predictions().size(1) == 1 ? ev.predictions().getDouble(i, 0)
                    : ev.predictions().getDouble(i, pred[i]);
            captions.add("true: " + classNames.get(truth[i]) + "\npredicted: " + classNames.get(pred[i])
                    + String.format(" (%.2f)", p));
        }
        if (images.isEmpty()) {
            BufferedImage none = new BufferedImage(360, 40, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = none.createGraphics();
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, 360, 40);
            g.setColor(Color.DARK_GRAY);
            g.drawString("No misclassified images among " + ev.size(), 10, 25);
            g.dispose();
            return none;
        }
        return imageGrid(images, captions, 6, 150);
    }

    /** A grid of images with a caption under each (misclassified examples, augmentation previews). */
    public static BufferedImage imageGrid(List<BufferedImage> images, List<String> captions, int columns, int cell) {
        int n = images.size();
        int cols = Math.max(1, Math.min(columns, n));
        int rows = (n + cols - 1) / cols;
        int capH = 34;
        BufferedImage out = new BufferedImage(cols * cell, Math.max(1, rows) * (cell + capH), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int i = 0; i < n; i++) {
            int x = (i % cols) * cell;
            int y = (i / cols) * (cell + capH);
            BufferedImage im = images.get(i);
            double s = Math.min((double) (cell - 6) / im.getWidth(), (double) (cell - 6) / im.getHeight());
            int w = (int) (im.getWidth() * s), h = (int) (im.getHeight() * s);
            g.drawImage(im, x + (cell - w) / 2, y + (cell - h) / 2, w, h, null);
            g.setColor(Color.DARK_GRAY);
            String[] lines = (i < captions.size() ? captions.get(i) : "").split("\n");
            for (int l = 0; l < lines.length && l < 2; l++) {
                g.drawString(lines[l], x + 4, y + cell + 13 + 14 * l);
            }
        }
        g.setColor(ORANGE);
        g.setStroke(new BasicStroke(1));
        g.dispose();
        return out;
    }

    // ---- Grad-CAM ----

    /** Matplotlib's "jet" colour map as (position, value) breakpoints for red, green and blue. */
    private static final double[][][] JET = {
            {{0, 0}, {0.35, 0}, {0.66, 1}, {0.89, 1}, {1, 0.5}},
            {{0, 0}, {0.125, 0}, {0.375, 1}, {0.64, 1}, {0.91, 0}, {1, 0}},
            {{0, 0.5}, {0.11, 1}, {0.34, 1}, {0.65, 0}, {1, 0}}};
    /** How much of the colour map shows over the image (Keras's Grad-CAM example uses 0.4). */
    private static final double OVERLAY_ALPHA = 0.4;

    /** Matplotlib's "jet" colour of v in [0, 1] (dark blue, blue, cyan, yellow, red, dark red). */
    public static Color jet(double v) {
        double x = Math.max(0, Math.min(1, v));
        int[] rgb = new int[3];
        for (int c = 0; c < 3; c++) {
            double[][] seg = JET[c];
            double y = seg[seg.length - 1][1];
            for (int k = 1; k < seg.length; k++) {
                if (x <= seg[k][0]) {
                    double t = (x - seg[k - 1][0]) / (seg[k][0] - seg[k - 1][0]);
                    y = seg[k - 1][1] + t * (seg[k][1] - seg[k - 1][1]);
                    break;
                }
            }
            rgb[c] = (int) Math.round(255 * y);
        }
        return new Color(rgb[0], rgb[1], rgb[2]);
    }

    /**
     * A heatmap (H, W) resized to height x width by bilinear interpolation, pixel centres aligned (output pixel y
     * samples the map at (y + 0.5) * H / height - 0.5, clamped at the edges).
     */
    public static double[][] upsample(INDArray heatmap, int height, int width) {
        INDArray m = heatmap.rank() == 3 && heatmap.size(0) == 1 ? heatmap.slice(0) : heatmap;
        if (m.rank() != 2) {
            throw new IllegalArgumentException("A heatmap is (height, width), got " + java.util.Arrays.toString(heatmap.shape()));
        }
        int h = (int) m.size(0), w = (int) m.size(1);
        double[][] src = new double[h][w];
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                src[i][j] = m.getDouble(i, j);
            }
        }
        double[][] out = new double[height][width];
        for (int y = 0; y < height; y++) {
            double sy = Math.max(0, Math.min(h - 1, (y + 0.5) * h / height - 0.5));
            int y0 = (int) Math.floor(sy), y1 = Math.min(h - 1, y0 + 1);
            double fy = sy - y0;
            for (int x = 0; x < width; x++) {
                double sx = Math.max(0, Math.min(w - 1, (x + 0.5) * w / width - 0.5));
                int x0 = (int) Math.floor(sx), x1 = Math.min(w - 1, x0 + 1);
                double fx = sx - x0;
                out[y][x] = (1 - fy) * ((1 - fx) * src[y0][x0] + fx * src[y0][x1])
                        + fy * ((1 - fx) * src[y1][x0] + fx * src[y1][x1]);
            }
        }
        return out;
    }

    /**
     * Grad-CAM's picture: the heatmap (H, W), divided by its maximum, upsampled onto the image (bilinear) and
     * coloured with the jet colour map, laid over the image at 40% (as in Keras's Grad-CAM example). Shows inline in
     * a notebook.
     */
    public static BufferedImage gradCam(BufferedImage image, INDArray heatmap) {
        int w = image.getWidth(), h = image.getHeight();
        double[][] up = upsample(heatmap, h, w);
        double max = 0;
        for (double[] row : up) {
            for (double v : row) {
                max = Math.max(max, v);
            }
        }
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                Color c = jet(max > 0 ? up[y][x] / max : 0);
                int p = image.getRGB(x, y);
                int r = blend((p >> 16) & 0xff, c.getRed());
                int g = blend((p >> 8) & 0xff, c.getGreen());
                int b = blend(p & 0xff, c.getBlue());
                out.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return out;
    }

    private static int blend(int image, int colour) {
        return (int) Math.round((1 - OVERLAY_ALPHA) * image + OVERLAY_ALPHA * colour);
    }

    /**
     * Grad-CAM's picture over an image given as an array (H, W, 3) or (1, H, W, 3) of RGB values, stretched from
     * their minimum..maximum to 0..255 (pass the image as loaded, before preprocessing, to see its true colours).
     */
    public static BufferedImage gradCam(INDArray image, INDArray heatmap) {
        return gradCam(toImage(image), heatmap);
    }

    /** An RGB array (H, W, 3) or (1, H, W, 3) as an image, its values stretched from min..max to 0..255. */
    public static BufferedImage toImage(INDArray rgb) {
        INDArray a = rgb.rank() == 4 && rgb.size(0) == 1 ? rgb.slice(0) : rgb;
        if (a.rank() != 3 || a.size(2) != 3) {
            throw new IllegalArgumentException("An RGB image is (height, width, 3), got " + java.util.Arrays.toString(rgb.shape()));
        }
        double min = a.minNumber().doubleValue(), max = a.maxNumber().doubleValue();
        double scale = max > min ? 255.0 / (max - min) : 0;
        int h = (int) a.size(0), w = (int) a.size(1);
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = 0;
                for (int c = 0; c < 3; c++) {
                    p = (p << 8) | (int) Math.round((a.getDouble(y, x, c) - min) * scale);
                }
                out.setRGB(x, y, p);
            }
        }
        return out;
    }

    /** Grad-CAM pictures of several images in a grid, a title under each (up to two lines, split by a newline). */
    public static BufferedImage gradCamGrid(List<BufferedImage> images, List<INDArray> heatmaps, List<String> titles,
                                            int columns) {
        if (images.size() != heatmaps.size()) {
            throw new IllegalArgumentException(images.size() + " images but " + heatmaps.size() + " heatmaps");
        }
        List<BufferedImage> overlays = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            overlays.add(gradCam(images.get(i), heatmaps.get(i)));
        }
        return imageGrid(overlays, titles, columns, 180);
    }

    /**
     * A Grad-CAM result on its images in a grid, each titled with the true class (when {@code trueClasses} is not
     * null), the class the heatmap is for and the model's probability of it: "true: cat", "predicted: dog (0.87)"
     * ("class: " instead of "predicted: " when the heatmaps were asked for given classes).
     * For misclassified images, explain them with their predicted classes (the default) and pass their true ones.
     */
    public static BufferedImage gradCamGrid(List<BufferedImage> images, io.transferlab.explain.GradCam.Result result,
                                            List<String> classNames, int[] trueClasses) {
        int[] cls = result.classes();
        double[] p = result.probabilities();
        List<INDArray> maps = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        for (int i = 0; i < result.size(); i++) {
            maps.add(result.heatmap(i));
            String name = cls[i] < classNames.size() ? classNames.get(cls[i]) : String.valueOf(cls[i]);
            String explained = String.format("%s (%.2f)", name, p[i]);
            String label = result.topClasses() ? "predicted: " : "class: ";
            titles.add(trueClasses == null ? label + explained
                    : "true: " + classNames.get(trueClasses[i]) + "\n" + label + explained);
        }
        return gradCamGrid(images, maps, titles, 6);
    }

    /**
     * What a classifier looks at when it is right and when it is wrong: goes through a dataset (in its order, so use
     * one without shuffling), explains each batch with Grad-CAM for the predicted classes, and keeps the first
     * {@code right} correctly and {@code wrong} wrongly classified images, drawn with their heatmaps and titled with
     * the true and the predicted class. Right answers come first, then wrong ones; it stops reading as soon as it has
     * both (a model without mistakes on the data shows only right answers, and says so in the title of the grid).
     */
    public static BufferedImage gradCamExamples(io.transferlab.explain.GradCam cam, io.transferlab.data.ImageFolder data,
                                                int right, int wrong) {
        List<BufferedImage> rightImages = new ArrayList<>(), wrongImages = new ArrayList<>();
        List<INDArray> rightMaps = new ArrayList<>(), wrongMaps = new ArrayList<>();
        List<String> rightTitles = new ArrayList<>(), wrongTitles = new ArrayList<>();
        List<String> names = data.classes();
        for (io.transferlab.data.Batch b : data) {
            if (rightImages.size() >= right && wrongImages.size() >= wrong) {
                break;
            }
            io.transferlab.explain.GradCam.Result r = cam.explain(b.x());
            for (int i = 0; i < b.size(); i++) {
                int truth = b.y().size(1) == 1 ? (b.y().getDouble(i, 0) > 0.5 ? 1 : 0)
                        : b.y().getRow(i).argMax().getInt(0);
                int predicted = r.classes()[i];
                boolean ok = truth == predicted;
                if (ok ? rightImages.size() >= right : wrongImages.size() >= wrong) {
                    continue;
                }
                String title = "true: " + names.get(truth) + "\npredicted: "
                        + String.format("%s (%.2f)", names.get(predicted), r.probabilities()[i]);
                (ok ? rightImages : wrongImages).add(toImage(b.x().slice(i)));
                (ok ? rightMaps : wrongMaps).add(r.heatmap(i));
                (ok ? rightTitles : wrongTitles).add(title);
            }
        }
        List<BufferedImage> images = new ArrayList<>(rightImages);
        images.addAll(wrongImages);
        List<INDArray> maps = new ArrayList<>(rightMaps);
        maps.addAll(wrongMaps);
        List<String> titles = new ArrayList<>(rightTitles);
        titles.addAll(wrongTitles);
        if (images.isEmpty()) {
            throw new IllegalArgumentException("No images in " + data);
        }
        if (wrongImages.isEmpty() && wrong > 0) {
            System.out.println("no wrong answers among the " + data.size() + " images: only right ones are shown");
        }
        return gradCamGrid(images, maps, titles, Math.max(1, Math.min(right, 6)));
    }
}
