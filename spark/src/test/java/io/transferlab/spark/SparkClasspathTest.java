package io.transferlab.spark;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The class path this module puts together from Spark and the library: where both bring a library, one copy and
 * the version Spark needs; ND4J's natives and Spark in one JVM. (The other tests run the real code on it.)
 */
class SparkClasspathTest {
    static List<String> copies(String resource) throws Exception {
        List<String> found = new ArrayList<>();
        for (var u : Collections.list(SparkClasspathTest.class.getClassLoader().getResources(resource))) {
            found.add(u.toString());
        }
        return found;
    }

    static String jarOf(Class<?> c) {
        return c.getProtectionDomain().getCodeSource().getLocation().toString();
    }

    @Test
    void sharedLibrariesAreOneCopyOfSparksVersion() throws Exception {
        for (String r : new String[]{"org/slf4j/LoggerFactory.class", "org/roaringbitmap/RoaringBitmap.class",
                "com/univocity/parsers/csv/CsvParser.class", "com/fasterxml/jackson/databind/ObjectMapper.class",
                "com/google/protobuf/Message.class", "org/apache/commons/io/IOUtils.class",
                "org/apache/commons/lang3/StringUtils.class", "org/apache/commons/collections4/CollectionUtils.class",
                "com/google/common/collect/ImmutableList.class"}) {
            List<String> c = copies(r);
            assertTrue(c.size() <= 1, r + " is on the class path " + c.size() + " times: " + c);
        }
        assertTrue(jarOf(org.roaringbitmap.RoaringBitmap.class).contains("RoaringBitmap-0.9.45"),
                jarOf(org.roaringbitmap.RoaringBitmap.class));
        assertTrue(jarOf(com.univocity.parsers.csv.CsvParser.class).contains("univocity-parsers-2.9.1"),
                jarOf(com.univocity.parsers.csv.CsvParser.class));
        assertTrue(jarOf(org.slf4j.LoggerFactory.class).contains("slf4j-api-2."), jarOf(org.slf4j.LoggerFactory.class));
        // slf4j 2 finds one provider, log4j 2's (Spark's logging); the library's slf4j-simple 1.7 binding is left out
        assertEquals("org.apache.logging.slf4j.Log4jLoggerFactory",
                org.slf4j.LoggerFactory.getILoggerFactory().getClass().getName());
        assertTrue(copies("org/slf4j/impl/StaticLoggerBinder.class").isEmpty(), "an slf4j 1.7 binding is on the class path");
        // ND4J keeps its own Jackson, Guava and protobuf shaded: they do not meet Spark's
        assertNotNull(Class.forName("org.nd4j.shade.jackson.databind.ObjectMapper"));
        assertNotNull(Class.forName("org.nd4j.shade.protobuf.Message"));
        System.out.println("CLASSPATH jackson " + jarOf(com.fasterxml.jackson.databind.ObjectMapper.class)
                + "; guava " + copies("com/google/common/collect/ImmutableList.class"));
    }

    @Test
    void nd4jRunsInsideSparkTasks() {
        var spark = SparkTestSupport.spark();
        List<Double> sums = spark.range(0, 4).repartition(2).map(
                (org.apache.spark.api.java.function.MapFunction<Long, Double>) i ->
                        org.nd4j.linalg.factory.Nd4j.ones(3, 3).muli(i).sumNumber().doubleValue(),
                org.apache.spark.sql.Encoders.DOUBLE()).collectAsList();
        assertEquals(List.of(0.0, 9.0, 18.0, 27.0), sums.stream().sorted().toList());
    }
}
