package dev.agentfn.testing;

import dev.agentfn.standin.FakeAnthropicServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/** One fake Messages API per test JVM; tests script it through {@link #fake()}. */
public class FakeAnthropicResource implements QuarkusTestResourceLifecycleManager {
    /** The API key the function under test uses; tests assert it never leaks. */
    public static final String TEST_API_KEY = "sk-ant-test-fake-key-never-log-me-0123456789";
    private static FakeAnthropicServer fake;

    public static synchronized FakeAnthropicServer fake() {
        if (fake == null) {
            fake = new FakeAnthropicServer().start(0);
        }
        return fake;
    }

    @Override
    public Map<String, String> start() {
        return Map.of("agentfn.anthropic.base-url", fake().baseUrl(), "agentfn.anthropic.api-key", TEST_API_KEY,
                "agentfn.anthropic.stand-in", "never");
    }

    @Override
    public void stop() {
        // shared across test classes; the JVM exit closes its sockets
    }
}
