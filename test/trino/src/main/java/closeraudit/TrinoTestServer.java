/*
 * Test infrastructure: an embedded Trino (coordinator only, HTTP on 127.0.0.1) with two Hive
 * catalogs over the Parquet the pipeline writes, for the integration tests. See README.md.
 *
 * Usage: java ... closeraudit.TrinoTestServer ROOT URL_FILE [HTTP_PORT]
 *   ROOT      the local file system root of both catalogs: `local:///x` is ROOT/x. The file
 *             metastores live under it too (_metastore/, _metastore_s3/).
 *   URL_FILE  where "http://127.0.0.1:PORT" is written once the server has started
 *   HTTP_PORT default 0 (any free port)
 * Catalogs:
 *   local     Hive over ROOT (local:// locations)
 *   s3        Hive over the S3-compatible server named by the environment variables
 *             TRINO_S3_ENDPOINT, TRINO_S3_ACCESS_KEY, TRINO_S3_SECRET_KEY (s3:// locations);
 *             only when TRINO_S3_ENDPOINT is set
 */
package closeraudit;

import io.trino.plugin.hive.HivePlugin;
import io.trino.testing.DistributedQueryRunner;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import static io.trino.testing.TestingSession.testSessionBuilder;

public final class TrinoTestServer {
    private TrinoTestServer() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: TrinoTestServer ROOT URL_FILE [HTTP_PORT]");
            System.exit(2);
        }
        Path root = Path.of(args[0]).toAbsolutePath();
        Files.createDirectories(root);
        Path urlFile = Path.of(args[1]).toAbsolutePath();
        String port = args.length > 2 ? args[2] : "0";

        DistributedQueryRunner runner = DistributedQueryRunner.builder(testSessionBuilder().build())
            .setWorkerCount(0)
            .setCoordinatorProperties(Map.of("http-server.http.port", port))
            .build();
        runner.installPlugin(new HivePlugin());
        runner.createCatalog("local", "hive", catalog(root, "_metastore"));

        String endpoint = System.getenv("TRINO_S3_ENDPOINT");
        if (endpoint != null && !endpoint.isEmpty()) {
            Map<String, String> s3 = catalog(root, "_metastore_s3");
            s3.put("fs.s3.enabled", "true");
            s3.put("s3.endpoint", endpoint);
            s3.put("s3.region", envOr("TRINO_S3_REGION", "us-east-1"));
            s3.put("s3.path-style-access", "true");
            s3.put("s3.aws-access-key", envOr("TRINO_S3_ACCESS_KEY", ""));
            s3.put("s3.aws-secret-key", envOr("TRINO_S3_SECRET_KEY", ""));
            runner.createCatalog("s3", "hive", s3);
        }

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception e) {
                e.printStackTrace();
            }
            stopped.countDown();
        }));

        // Written last and atomically: the script takes the file's presence as "started".
        String url = runner.getCoordinator().getBaseUrl().toString().replaceAll("/+$", "");
        Path tmp = urlFile.resolveSibling(urlFile.getFileName() + ".tmp");
        Files.writeString(tmp, url + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, urlFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        System.out.println("trino-test-server: " + url + " over " + root);
        stopped.await();
    }

    /** A Hive catalog with a file metastore under ROOT, reading local:// paths under ROOT. */
    private static Map<String, String> catalog(Path root, String metastoreDir) {
        Map<String, String> p = new HashMap<>();
        p.put("hive.metastore", "file");
        p.put("hive.metastore.catalog.dir", "local:///" + metastoreDir);
        p.put("fs.local.enabled", "true");
        p.put("local.location", root.toString());
        // Athena's way of finding partitions: computed from the table's projection properties.
        p.put("hive.partition-projection-enabled", "true");
        // With the file metastore, column statistics of a projected table's partitions are looked
        // up as if they were registered and fail (PartitionNotFoundException) when a query scans
        // the table twice (a CTE); Athena keeps no such statistics either.
        p.put("hive.table-statistics-enabled", "false");
        // Projection enumerates every day of the range, written or not; Athena reads a day with no
        // folder as empty, Trino fails the query (HIVE_FILE_NOT_FOUND) unless told to do the same.
        p.put("hive.ignore-absent-partitions", "true");
        return p;
    }

    private static String envOr(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? fallback : v;
    }
}
