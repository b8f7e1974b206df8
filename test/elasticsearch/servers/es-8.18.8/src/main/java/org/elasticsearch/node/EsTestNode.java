/*
 * Test infrastructure: a single-node Elasticsearch started inside this JVM, HTTP on 127.0.0.1.
 * It lives in org.elasticsearch.node because Node(NodeConstruction), NodeConstruction and
 * NodeServiceProvider are package-private. Tied to the pinned ES version (see pom.xml).
 *
 * Usage: java -cp target/classes:target/lib/* org.elasticsearch.node.EsTestNode HOME_DIR URL_FILE [HTTP_PORT]
 *   HOME_DIR  path.home (created if missing; "-" = a new temp dir)
 *   URL_FILE  where "http://127.0.0.1:PORT" is written once the node has started
 *   HTTP_PORT a port or a range such as 9200-9300; default 0 (any free port)
 */
package org.elasticsearch.node;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.transport.TransportAddress;
import org.elasticsearch.env.Environment;
import org.elasticsearch.http.HttpServerTransport;
import org.elasticsearch.plugins.ClasspathPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;
import org.elasticsearch.transport.netty4.Netty4Plugin;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

public class EsTestNode extends Node {

    private static final List<Class<? extends Plugin>> PLUGINS = List.of(Netty4Plugin.class);

    private EsTestNode(Environment environment) {
        super(NodeConstruction.prepareConstruction(
            environment,
            ClasspathPluginsService.emptyPluginsLoader(),
            new NodeServiceProvider() {
                @Override
                PluginsService newPluginService(Environment env, PluginsLoader pluginsLoader) {
                    return new ClasspathPluginsService(env.settings(), env, PLUGINS);
                }
            },
            true
        ));
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: EsTestNode HOME_DIR|- URL_FILE [HTTP_PORT]");
            System.exit(2);
        }
        Path home = "-".equals(args[0]) ? Files.createTempDirectory("es-test-node") : Path.of(args[0]);
        Files.createDirectories(home.resolve("config"));
        Path urlFile = Path.of(args[1]).toAbsolutePath();
        String httpPort = args.length > 2 ? args[2] : "0";

        LogConfigurator.configureESLogging();

        Settings settings = Settings.builder()
            .put("path.home", home.toAbsolutePath().toString())
            .put("cluster.name", "es-test")
            .put("node.name", "es-test-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", "0")
            .put("discovery.type", "single-node")
            .put("node.processors", 1)
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("indices.breaker.total.use_real_memory", false)
            .put("action.destructive_requires_name", false)
            .put("logger.level", "WARN")
            .build();

        // Console logging (stdout, redirected to a file by es-node.sh) at WARN, ES pattern.
        LogConfigurator.configureWithoutConfig(settings);

        Environment environment = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "es-test-node");
        EsTestNode node = new EsTestNode(environment);

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.prepareForClose();
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            }
        }, "es-test-node-shutdown"));

        try {
            node.start();
        } catch (Throwable t) {
            t.printStackTrace();
            System.out.flush();
            System.exit(1);
        }

        TransportAddress bound = node.injector().getInstance(HttpServerTransport.class).boundAddress().publishAddress();
        String url = "http://127.0.0.1:" + bound.getPort();
        Path parent = urlFile.getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Path tmp = urlFile.resolveSibling(urlFile.getFileName() + ".tmp");
        Files.writeString(tmp, url + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, urlFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.println("es-test-node started: " + url + " (path.home " + home.toAbsolutePath() + ")");
        System.out.flush();

        // ES threads are daemon threads: keep the JVM alive until it is signalled (SIGTERM
        // runs the shutdown hook, which closes the node).
        new CountDownLatch(1).await();
    }
}
