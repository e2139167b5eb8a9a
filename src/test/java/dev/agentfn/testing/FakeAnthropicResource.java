package dev.agentfn.testing;

import dev.agentfn.standin.FakeAnthropicServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Path;
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

    /** Where the per-invocation directories of the claude-code engine go, so tests can count leftovers. */
    public static final Path CLAUDE_CODE_WORK = Path.of("target", "claude-code-work").toAbsolutePath();
    /** The persistent session directory of the claude-code engine in tests. */
    public static final Path CLAUDE_CODE_SESSIONS = Path.of("target", "claude-code-sessions").toAbsolutePath();

    /**
     * The Claude Code CLI binary the tests run: system property {@code agentfn-tests.claude-code-cli}
     * (set by the pom to the cache of {@code .ci/setup-claude-code.sh}). Tests that need it fail when it is missing.
     */
    public static Path claudeCodeCli() {
        String p = System.getProperty("agentfn-tests.claude-code-cli");
        return p == null || p.isBlank()
                ? Path.of(System.getProperty("user.home"), ".cache", "agentfn", "claude-code-2.1.330", "claude")
                : Path.of(p);
    }

    @Override
    public Map<String, String> start() {
        return Map.of("agentfn.anthropic.base-url", fake().baseUrl(), "agentfn.anthropic.api-key", TEST_API_KEY,
                "agentfn.anthropic.stand-in", "never",
                "agentfn.claude-code.cli-path", claudeCodeCli().toString(),
                "agentfn.claude-code.work-root", CLAUDE_CODE_WORK.toString(),
                "agentfn.claude-code.session-dir", CLAUDE_CODE_SESSIONS.toString(),
                "agentfn.claude-code.expected-version", "2.1.330");
    }

    @Override
    public void stop() {
        // shared across test classes; the JVM exit closes its sockets
    }
}
