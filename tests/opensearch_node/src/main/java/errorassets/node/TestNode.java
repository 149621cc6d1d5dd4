package errorassets.node;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * One single-node OpenSearch cluster serving HTTP on 127.0.0.1, for tests and local use.
 *
 * Usage: TestNode --port N --data DIR [--cluster NAME] [-E setting=value ...]
 * [--exit-on-stdin-eof]. Prints
 * "OPENSEARCH_URL=http://..." once the node is started, then runs until SIGTERM/SIGINT (a
 * shutdown hook closes the node cleanly) or, with --exit-on-stdin-eof, until its parent process
 * closes our stdin (so a test session that dies never leaves an orphaned node behind).
 * Subclassing Node (instead of the test framework) avoids its root check and security manager.
 */
public final class TestNode extends Node {

    private static final List<Class<? extends Plugin>> PLUGINS = List.of(
        Netty4Plugin.class,          // the HTTP layer
        CommonAnalysisPlugin.class,  // standard analyzers and normalizers
        PainlessPlugin.class,        // scripts (update-by-query, scripted metrics)
        ReindexPlugin.class,         // _delete_by_query / _update_by_query / _reindex
        MapperExtrasPlugin.class     // scaled_float, rank_feature, search_as_you_type ...
    );

    private TestNode(Settings settings) {
        super(InternalSettingsPreparer.prepareEnvironment(settings, java.util.Map.of(), null, () -> "test-node"),
            PLUGINS, true);
    }

    public static void main(String[] args) throws Exception {
        int port = 9200;
        Path data = null;
        String cluster = "error-assets-test";
        boolean exitOnStdinEof = false;
        java.util.Map<String, String> overrides = new java.util.LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--data" -> data = Paths.get(args[++i]).toAbsolutePath();
                case "--cluster" -> cluster = args[++i];
                case "--exit-on-stdin-eof" -> exitOnStdinEof = true;
                case "-E" -> {
                    String[] pair = args[++i].split("=", 2);
                    if (pair.length != 2) {
                        throw new IllegalArgumentException("-E expects setting=value, got " + args[i]);
                    }
                    overrides.put(pair[0], pair[1]);
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (data == null) {
            throw new IllegalArgumentException("--data DIR is required");
        }
        long started = System.nanoTime();
        Path home = data.resolve("home");
        // The plugins service insists on both folders existing under path.home.
        Files.createDirectories(home.resolve("modules"));
        Files.createDirectories(home.resolve("plugins"));
        Files.createDirectories(home.resolve("config"));
        Settings settings = Settings.builder()
            .put("cluster.name", cluster)
            .put("node.name", "test-node")
            .put("path.home", home.toString())
            .put("path.data", data.resolve("data").toString())
            .put("path.logs", data.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", Integer.toString(port))
            .put("discovery.type", "single-node")
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("logger.level", System.getProperty("testnode.log.level", "WARN"))
            .put(Settings.builder().loadFromMap(overrides).build())
            .build();
        // Logging must be configured before any OpenSearch class logs anything.
        LogConfigurator.registerErrorListener();
        LogConfigurator.configureWithoutConfig(settings);

        TestNode node = new TestNode(settings);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "test-node-shutdown"));
        node.start();
        if (exitOnStdinEof) {
            Thread watchdog = new Thread(() -> {
                try {
                    while (System.in.read() != -1) {
                        // Drain: only the end of the stream matters.
                    }
                } catch (java.io.IOException ignored) {
                    // A broken pipe means the parent is gone, same as EOF.
                }
                System.exit(0);
            }, "test-node-stdin-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.println("OPENSEARCH_URL=http://127.0.0.1:" + port);
        System.out.println("STARTED_IN_MS=" + millis);
        System.out.flush();
        stopped.await();
    }
}
