/*
 * Test infrastructure: a single-node Elasticsearch 6.8 in this JVM, HTTP on 127.0.0.1. Node's
 * classpath-plugins constructor is protected, hence the subclass (same arguments as the 8.18
 * launcher: HOME_DIR URL_FILE [HTTP_PORT]).
 */
package org.elasticsearch.node;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.http.HttpServerTransport;
import org.elasticsearch.transport.Netty4Plugin;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

public class EsTestNode extends Node {

    private EsTestNode(Environment environment) {
        super(environment, List.of(Netty4Plugin.class), true);
    }

    @Override
    protected void registerDerivedNodeNameWithLogger(String nodeName) {}

    public static void main(String[] args) throws Exception {
        Path home = Path.of(args[0]);
        for (String dir : new String[] { "config", "modules", "plugins" }) Files.createDirectories(home.resolve(dir));
        Path urlFile = Path.of(args[1]).toAbsolutePath();
        String httpPort = args.length > 2 ? args[2] : "0";

        Settings settings = Settings.builder()
            .put("path.home", home.toAbsolutePath().toString())
            .put("cluster.name", "es-test")
            .put("node.name", "es-test-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", "0")
            .put("discovery.type", "single-node")
            .put("processors", 1)
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.destructive_requires_name", false)
            .put("logger.level", "WARN")
            .build();
        LogConfigurator.configureWithoutConfig(settings);
        Environment environment = InternalSettingsPreparer.prepareEnvironment(settings, (org.elasticsearch.cli.Terminal) null, Map.of(), null);
        EsTestNode node = new EsTestNode(environment);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
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
        var bound = node.injector().getInstance(HttpServerTransport.class).boundAddress().publishAddress();
        writeUrl(urlFile, "http://127.0.0.1:" + bound.getPort());
        new CountDownLatch(1).await();
    }

    static void writeUrl(Path urlFile, String url) throws Exception {
        Files.createDirectories(urlFile.getParent());
        Path tmp = urlFile.resolveSibling(urlFile.getFileName() + ".tmp");
        Files.writeString(tmp, url + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, urlFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.println("test node started: " + url);
        System.out.flush();
    }
}
