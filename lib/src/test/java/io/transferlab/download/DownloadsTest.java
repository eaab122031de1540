package io.transferlab.download;

import com.sun.net.httpserver.HttpServer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/** Downloads and dataset layouts against a local HTTP server: no network. */
class DownloadsTest {
    @TempDir
    Path tmp;
    private HttpServer server;
    private final Map<String, byte[]> files = new HashMap<>();
    private final AtomicInteger rangeRequests = new AtomicInteger();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            byte[] body = files.get(ex.getRequestURI().getPath());
            if (body == null) {
                ex.sendResponseHeaders(404, -1);
                ex.close();
                return;
            }
            String range = ex.getRequestHeaders().getFirst("Range");
            int from = 0;
            if (range != null && range.startsWith("bytes=")) {
                from = Integer.parseInt(range.substring(6, range.indexOf('-')));
                rangeRequests.incrementAndGet();
                ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
                ex.sendResponseHeaders(206, body.length - from);
            } else {
                ex.sendResponseHeaders(200, body.length);
            }
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body, from, body.length - from);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    @Test
    void fetchVerifiesResumesAndNeverLeavesABadFile() throws Exception {
        byte[] data = new byte[300_000];
        new java.util.Random(1).nextBytes(data);
        files.put("/w.h5", data);
        Path target = tmp.resolve("w.h5");
        String md5 = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5").digest(data));

        // a previous run stopped half-way: the rest is fetched with a Range request
        Files.write(tmp.resolve("w.h5.part"), java.util.Arrays.copyOf(data, 100_000));
        Download.fetch(url("/w.h5"), target, Download.Checksum.md5(md5));
        assertArrayEquals(data, Files.readAllBytes(target));
        assertEquals(1, rangeRequests.get());
        assertFalse(Files.exists(tmp.resolve("w.h5.part")));

        // wrong checksum: error, and nothing that looks complete
        Path other = tmp.resolve("x/w.h5");
        var e = assertThrows(IOException.class, () -> Download.fetch(url("/w.h5"), other, Download.Checksum.md5("0".repeat(32))));
        assertTrue(e.getMessage().contains("MD5") && e.getMessage().contains("expected"), e.getMessage());
        assertFalse(Files.exists(other));
        assertFalse(Files.exists(tmp.resolve("x/w.h5.part")));

        // missing file on the server: the error says where to put the file
        var e2 = assertThrows(IOException.class, () -> Download.fetch(url("/nope.h5"), tmp.resolve("nope.h5"), null));
        assertTrue(e2.getMessage().contains("HTTP 404") && e2.getMessage().contains("nope.h5"), e2.getMessage());
    }

    @Test
    void archivesRefuseEntriesOutsideTheTarget() throws Exception {
        Path zip = tmp.resolve("evil.zip");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
            z.putNextEntry(new ZipEntry("ok/a.txt"));
            z.write("a".getBytes());
            z.putNextEntry(new ZipEntry("../escaped.txt"));
            z.write("b".getBytes());
        }
        var e = assertThrows(IOException.class, () -> Archives.unzip(zip, tmp.resolve("out")));
        assertTrue(e.getMessage().contains("outside") && e.getMessage().contains("../escaped.txt"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("escaped.txt")));

        Path tgz = tmp.resolve("link.tgz");
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(new GzipCompressorOutputStream(Files.newOutputStream(tgz)))) {
            TarArchiveEntry link = new TarArchiveEntry("a/link", TarArchiveEntry.LF_SYMLINK);
            link.setLinkName("/etc/passwd");
            t.putArchiveEntry(link);
            t.closeArchiveEntry();
        }
        var e2 = assertThrows(IOException.class, () -> Archives.untarGz(tgz, tmp.resolve("out2")));
        assertTrue(e2.getMessage().contains("link"), e2.getMessage());
    }

    private static byte[] jpeg(int seed) throws IOException {
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        img.setRGB(seed % 8, 0, 0xffffff);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpg", out);
        return out.toByteArray();
    }

    @Test
    void catsAndDogsIsSplitAsTheTutorialAndSkipsCorruptImages() throws Exception {
        ByteArrayOutputStream zipBytes = new ByteArrayOutputStream();
        byte[] img = jpeg(1);
        try (ZipOutputStream z = new ZipOutputStream(zipBytes)) {
            for (String cls : new String[]{"Cat", "Dog"}) {
                for (int i = 0; i < 2002; i++) {
                    z.putNextEntry(new ZipEntry("PetImages/" + cls + "/" + i + ".jpg"));
                    z.write(i == 5 ? new byte[0] : img);          // one empty file per class, as in the real archive
                }
            }
        }
        files.put("/pets.zip", zipBytes.toByteArray());
        Path root = DatasetDownloads.catsAndDogs(tmp, url("/pets.zip"));
        assertEquals(1000, count(root.resolve("train/cats")));
        assertEquals(500, count(root.resolve("validation/dogs")));
        assertEquals(500, count(root.resolve("test/cats")));
        assertTrue(Files.exists(tmp.resolve("pets.zip.sha256")), "first download's SHA-256 is pinned");
        // idempotent: a second call does nothing, even with the server gone
        server.stop(0);
        assertEquals(root, DatasetDownloads.catsAndDogs(tmp, url("/pets.zip")));
    }

    @Test
    void pinnedChecksumCatchesAChangedArchive() throws Exception {
        files.put("/f.tgz", "first".getBytes());
        DatasetDownloads.archive(url("/f.tgz"), tmp, null);
        Files.delete(tmp.resolve("f.tgz"));
        files.put("/f.tgz", "second".getBytes());
        var e = assertThrows(IOException.class, () -> DatasetDownloads.archive(url("/f.tgz"), tmp, null));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
    }

    @Test
    void cifar10BinaryBecomesClassFolders() throws Exception {
        ByteArrayOutputStream tgz = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(new GzipCompressorOutputStream(tgz))) {
            String[] names = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                    "data_batch_5.bin", "test_batch.bin"};
            for (String n : names) {
                byte[] b = new byte[3073 * 3];
                for (int r = 0; r < 3; r++) {
                    b[r * 3073] = (byte) r;                    // labels 0, 1, 2
                    b[r * 3073 + 1] = (byte) 255;              // first pixel red
                }
                TarArchiveEntry e = new TarArchiveEntry("cifar-10-batches-bin/" + n);
                e.setSize(b.length);
                t.putArchiveEntry(e);
                t.write(b);
                t.closeArchiveEntry();
            }
        }
        files.put("/cifar.tar.gz", tgz.toByteArray());
        Path root = DatasetDownloads.cifar10(tmp, url("/cifar.tar.gz"));
        assertEquals(5, count(root.resolve("train/airplane")));
        assertEquals(1, count(root.resolve("test/bird")));
        BufferedImage first = ImageIO.read(root.resolve("train/automobile/00000.png").toFile());
        assertEquals(0xff0000, first.getRGB(0, 0) & 0xffffff);
    }

    private static long count(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }
}
