package dev.agentfn.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfn.config.AgentfnConfig.Gateway;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The gateway's choices are closed sets: a value the gateway does not know (a typo such as {@code manged}) stops
 * start-up with a message naming the property, instead of quietly running in the default mode (passthrough would
 * then send each caller's own credential upstream where the operator meant the deployment's).
 */
class GatewayChoicesTest {

    private static AgentfnConfig.Gateway gateway(Map<String, String> props) {
        // Quarkus's own converters for "60s" and "32M", as the application reads them
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(AgentfnConfig.class)
                .withConverter(java.time.Duration.class, 200, new io.quarkus.runtime.configuration.DurationConverter())
                .withConverter(io.quarkus.runtime.configuration.MemorySize.class, 200,
                        new io.quarkus.runtime.configuration.MemorySizeConverter())
                .withSources(new PropertiesConfigSource(props, "test", 500)).build();
        return config.getConfigMapping(AgentfnConfig.class).gateway();
    }

    @Test
    void theDocumentedValuesAreRead() {
        Gateway g = gateway(Map.of("agentfn.gateway.credentials", "managed", "agentfn.gateway.capture-content", "metadata",
                "agentfn.gateway.turn-end-wait", "spool"));
        assertEquals(Gateway.Credentials.MANAGED, g.credentials());
        assertEquals(Gateway.Capture.METADATA, g.captureContent());
        assertEquals(Gateway.TurnEndWait.SPOOL, g.turnEndWait());
        Gateway defaults = gateway(Map.of());
        assertEquals(Gateway.Credentials.PASSTHROUGH, defaults.credentials());
        assertEquals(Gateway.Capture.FULL, defaults.captureContent());
        assertEquals(Gateway.TurnEndWait.MLFLOW, defaults.turnEndWait());
    }

    @Test
    void anUnknownValueStopsStartUpNamingTheProperty() {
        for (String property : new String[] {"agentfn.gateway.credentials", "agentfn.gateway.capture-content",
                "agentfn.gateway.turn-end-wait"}) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> gateway(Map.of(property, "manged")));
            String message = String.valueOf(e.getMessage()) + " " + String.valueOf(e.getCause());
            assertTrue(message.contains(property) && message.contains("manged"), message);
        }
    }
}
