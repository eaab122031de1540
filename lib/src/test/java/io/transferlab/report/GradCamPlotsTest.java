package io.transferlab.report;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Grad-CAM's pictures: bilinear upsampling, the jet colour map, the overlay's blend, the grid. */
class GradCamPlotsTest {

    @Test
    void bilinearUpsamplingReproducesALinearMapWithPixelCentresAligned() {
        // src[i][j] = 2i + 3j is linear, so bilinear interpolation gives 2 * sy + 3 * sx exactly
        INDArray map = Nd4j.create(new double[][]{{0, 3, 6}, {2, 5, 8}});
        double[][] up = Plots.upsample(map, 5, 7);
        for (int y = 0; y < 5; y++) {
            double sy = Math.max(0, Math.min(1, (y + 0.5) * 2 / 5 - 0.5));
            for (int x = 0; x < 7; x++) {
                double sx = Math.max(0, Math.min(2, (x + 0.5) * 3 / 7 - 0.5));
                assertEquals(2 * sy + 3 * sx, up[y][x], 1e-12, "at " + y + ", " + x);
            }
        }
        // a 2x2 map doubled: the inner pixels sit a quarter of the way between the source centres
        double[][] d = Plots.upsample(Nd4j.create(new double[][]{{0, 1}, {2, 3}}), 4, 4);
        assertEquals(0.75 * 0.75 + 0.25 * (0.25 * 2 + 0.75 * 3), d[1][2], 1e-12);
        assertEquals(0, d[0][0], 1e-12);
        assertEquals(3, d[3][3], 1e-12);
    }

    @Test
    void jetRunsFromDarkBlueThroughGreenToDarkRed() {
        assertEquals(new Color(0, 0, 128), Plots.jet(0));
        assertEquals(new Color(128, 0, 0), Plots.jet(1));
        assertEquals(255, Plots.jet(0.5).getGreen());
        assertEquals(new Color(0, 0, 128), Plots.jet(-3)); // clamped
    }

    @Test
    void theOverlayBlendsFortyPercentOfTheColourMapOverTheImage() {
        BufferedImage gray = new BufferedImage(10, 6, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 10; x++) {
                gray.setRGB(x, y, (100 << 16) | (100 << 8) | 100);
            }
        }
        // left cold (0), right hot (the maximum, whatever its scale)
        BufferedImage over = Plots.gradCam(gray, Nd4j.create(new double[][]{{0, 7.5}}));
        assertEquals(10, over.getWidth());
        assertEquals(6, over.getHeight());
        assertEquals(new Color(60, 60, 111), new Color(over.getRGB(0, 3)));  // 0.6 * 100 + 0.4 * jet(0)
        assertEquals(new Color(111, 60, 60), new Color(over.getRGB(9, 3)));  // 0.6 * 100 + 0.4 * jet(1)
        // an array image is stretched to 0..255 first
        INDArray rgb = Nd4j.zeros(DataType.FLOAT, 1, 2, 2, 3);
        rgb.putScalar(new long[]{0, 1, 1, 0}, 2.0);
        BufferedImage img = Plots.toImage(rgb);
        assertEquals(new Color(255, 0, 0), new Color(img.getRGB(1, 1)));
        assertEquals(new Color(0, 0, 0), new Color(img.getRGB(0, 0)));
    }

    @Test
    void aGridShowsEveryOverlayWithItsTitle() {
        BufferedImage im = new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB);
        INDArray m = Nd4j.rand(DataType.DOUBLE, 3, 3);
        BufferedImage grid = Plots.gradCamGrid(List.of(im, im, im), List.of(m, m, m),
                List.of("true: a\npredicted: b (0.91)", "x", "y"), 2);
        assertEquals(2 * 180, grid.getWidth());
        assertEquals(2 * (180 + 34), grid.getHeight());
        var e = assertThrows(IllegalArgumentException.class,
                () -> Plots.gradCamGrid(List.of(im), List.of(m, m), List.of("a"), 2));
        assertTrue(e.getMessage().contains("1 images but 2 heatmaps"));
    }
}
