/*
 * Test infrastructure: a PluginsService that ignores the plugins/ and modules/ folders of
 * path.home and instead instantiates plugin classes that are already on the classpath.
 * It lives in org.elasticsearch.plugins because it uses package-private API
 * (PluginsService.LoadedPlugin, PluginsService.loadPlugin). Tied to the pinned ES version (9.x: the descriptor's deployment target).
 */
package org.elasticsearch.plugins;

import org.elasticsearch.Build;
import org.elasticsearch.action.admin.cluster.node.info.PluginsAndModules;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

public class ClasspathPluginsService extends PluginsService {

    private final List<LoadedPlugin> classpathPlugins;
    private final PluginsAndModules classpathInfo;

    public ClasspathPluginsService(Settings settings, Environment environment, List<Class<? extends Plugin>> pluginClasses) {
        // An empty loader: no module or plugin bundles are read from disk.
        super(settings, environment.configDir(), emptyPluginsLoader());
        List<LoadedPlugin> loaded = new ArrayList<>();
        List<PluginRuntimeInfo> infos = new ArrayList<>();
        for (Class<? extends Plugin> pluginClass : pluginClasses) {
            Plugin instance = loadPlugin(pluginClass, settings, environment.configDir());
            PluginDescriptor descriptor = new PluginDescriptor(
                pluginClass.getSimpleName(),
                "classpath plugin",
                "NA",
                Build.current().version(),
                Integer.toString(Runtime.version().feature()),
                pluginClass.getName(),
                null,
                List.of(),
                false,
                false,
                false,
                false,
                PluginDescriptor.DeploymentTarget.ALL
            );
            loaded.add(new LoadedPlugin(descriptor, instance, pluginClass.getClassLoader()));
            infos.add(new PluginRuntimeInfo(descriptor));
        }
        this.classpathPlugins = List.copyOf(loaded);
        this.classpathInfo = new PluginsAndModules(infos, List.of());
    }

    /**
     * A loader without any module or plugin bundle. Uses the package-private constructor:
     * PluginsLoader.createPluginsLoader(...) needs the server to run as a named module, and
     * here it runs from the classpath.
     */
    public static PluginsLoader emptyPluginsLoader() {
        return new PluginsLoader(Set.of(), Set.of(), Map.of());
    }

    @Override
    protected List<LoadedPlugin> plugins() {
        return classpathPlugins;
    }

    @Override
    public PluginsAndModules info() {
        return classpathInfo;
    }
}
