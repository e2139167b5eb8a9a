package dev.agentfn.testing;

import dev.agentfn.config.AgentfnConfig;
import io.quarkus.runtime.configuration.DurationConverter;
import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.runtime.configuration.MemorySizeConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.time.Duration;
import java.util.Map;

/**
 * The deployment's {@link AgentfnConfig} built from a few properties and the mapping's own defaults, as Quarkus
 * would map them, for unit tests that construct product classes without booting Quarkus.
 */
public final class UnitConfig {
    private UnitConfig() {
    }

    public static AgentfnConfig of(Map<String, String> properties) {
        return new SmallRyeConfigBuilder().withMapping(AgentfnConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withConverter(MemorySize.class, 200, new MemorySizeConverter())
                .withSources(new PropertiesConfigSource(properties, "unit-test", 400)).build()
                .getConfigMapping(AgentfnConfig.class);
    }
}
