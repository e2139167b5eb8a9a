package dev.agentfn.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/** One fake OpenAI chat-completions endpoint per test JVM, for {@code openai:/} judges. */
public class FakeOpenAiResource implements QuarkusTestResourceLifecycleManager {
    /** The key the function under test sends; tests assert it arrives as the bearer and never leaks. */
    public static final String TEST_API_KEY = "sk-openai-test-fake-key-never-log-me-9876543210";
    private static FakeOpenAiServer fake;

    public static synchronized FakeOpenAiServer fake() {
        if (fake == null) {
            fake = new FakeOpenAiServer().start();
        }
        return fake;
    }

    @Override
    public Map<String, String> start() {
        return Map.of("agentfn.evaluation.openai.base-url", fake().baseUrl(),
                "agentfn.evaluation.openai.api-key", TEST_API_KEY);
    }

    @Override
    public void stop() {
        // shared across test classes
    }
}
