package dev.agentfn.conversation.claudecode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line (spec order, values after {@code =}), the environment, the tool policy, session ids. */
class CliCommandAndPolicyTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void flagsFollowTheSdkOrderAndValuesCannotBecomeFlags() {
        CliCommand c = new CliCommand(Path.of("/opt/claude"), "--be-evil", List.of("Read", "Write"), List.of("Bash"), 7,
                Optional.of(new BigDecimal("0.50")), "claude-sonnet-5-5", "default", false, "u-1");
        assertEquals(List.of("/opt/claude", "--output-format", "stream-json", "--verbose", "--system-prompt=--be-evil",
                "--tools=Read,Write", "--max-turns=7", "--max-budget-usd=0.50", "--disallowedTools=Bash",
                "--model=claude-sonnet-5-5", "--permission-prompt-tool=stdio", "--permission-mode=default",
                "--session-id=u-1", "--setting-sources=", "--include-partial-messages", "--input-format", "stream-json"), c.argv());
        CliCommand resume = new CliCommand(Path.of("/opt/claude"), null, List.of(), List.of(), 1, Optional.empty(), "m",
                "default", true, "u-2");
        assertTrue(resume.argv().contains("--resume=u-2"));
        assertTrue(resume.argv().contains("--system-prompt="));
        assertFalse(resume.argv().stream().anyMatch(a -> a.startsWith("--session-id")));
    }

    @Test
    void environmentCarriesOnlyWhatTheCliNeeds() {
        Map<String, String> env = CliCommand.environment(new CliCommand.Credentials("http://127.0.0.1:1",
                Optional.of("sk-ant-test"), Optional.empty()), Path.of("/w"), Path.of("/c"), Path.of("/h"),
                Path.of("/t"), "00-abc-def-01", "sdk-java", 2);
        assertEquals(Map.of("PATH", "/usr/local/bin:/usr/bin:/bin", "LANG", "C.UTF-8", "HOME", "/h", "TMPDIR", "/t",
                "PWD", "/w", "CLAUDE_CONFIG_DIR", "/c", "CLAUDE_CODE_ENTRYPOINT", "sdk-java",
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1", "DISABLE_AUTOUPDATER", "1",
                "ANTHROPIC_BASE_URL", "http://127.0.0.1:1"), without(env, "ANTHROPIC_API_KEY", "TRACEPARENT", "CLAUDE_CODE_MAX_RETRIES"));
        assertEquals("2", env.get("CLAUDE_CODE_MAX_RETRIES"));
        assertEquals("sk-ant-test", env.get("ANTHROPIC_API_KEY"));
        assertEquals("00-abc-def-01", env.get("TRACEPARENT"));
        Map<String, String> gateway = CliCommand.environment(new CliCommand.Credentials("u", Optional.empty(),
                Optional.of("tok")), Path.of("/w"), Path.of("/c"), Path.of("/h"), Path.of("/t"), "tp", "e", 0);
        assertEquals("tok", gateway.get("ANTHROPIC_AUTH_TOKEN"));
        assertEquals("", gateway.get("ANTHROPIC_API_KEY"));
        assertFalse(new CliCommand.Credentials("u", Optional.of("sk-xyz"), Optional.empty()).toString().contains("sk-xyz"));
    }

    static Map<String, String> without(Map<String, String> env, String... keys) {
        Map<String, String> copy = new java.util.HashMap<>(env);
        for (String k : keys) {
            copy.remove(k);
        }
        return copy;
    }

    @Test
    void policyConfinesPathsAndKeepsBashOffUnlessEnabled(@TempDir Path dir) throws IOException {
        Path cwd = Files.createDirectory(dir.resolve("work")).toRealPath();
        Files.createSymbolicLink(cwd.resolve("escape"), dir);
        ToolPolicy policy = new ToolPolicy(List.of("Read", "Write", "Bash"), false);
        List<String> offered = policy.offered(List.of());
        assertEquals(List.of("Read", "Write"), offered);
        assertTrue(policy.decide("Write", JSON.readTree("{\"file_path\":\"" + cwd.resolve("a/b.txt") + "\"}"), offered, cwd).allow());
        assertTrue(policy.decide("Read", JSON.readTree("{\"file_path\":\"rel.txt\"}"), offered, cwd).allow());
        assertFalse(policy.decide("Write", JSON.readTree("{\"file_path\":\"/etc/passwd\"}"), offered, cwd).allow());
        assertFalse(policy.decide("Write", JSON.readTree("{\"file_path\":\"" + cwd + "/../x\"}"), offered, cwd).allow());
        assertFalse(policy.decide("Write", JSON.readTree("{\"file_path\":\"" + cwd + "/escape/x\"}"), offered, cwd).allow(),
                "a symlink cannot lead out");
        assertTrue(policy.decide("Bash", JSON.readTree("{\"command\":\"ls\"}"), offered, cwd).reason().contains("bash-enabled"));
        assertFalse(policy.decide("Edit", JSON.readTree("{}"), offered, cwd).allow());
        assertEquals(List.of("Read"), policy.offered(List.of("Read")), "a request narrows the list");
        assertEquals(List.of("Bash", "Read"), new ToolPolicy(List.of("Read", "Bash"), true).offered(List.of()));
    }

    @Test
    void sessionIdsBecomeCliUuids() {
        String u = "0b1b9c1e-58a4-4d8b-9d8e-1f0e5a2b7c3d";
        assertEquals(u, ClaudeCodeEngine.sessionUuid(u));
        String derived = ClaudeCodeEngine.sessionUuid("conversation-7");
        assertEquals(derived, ClaudeCodeEngine.sessionUuid("conversation-7"), "stable, so the session resumes");
        assertTrue(derived.matches("[0-9a-f-]{36}"));
        assertFalse(ClaudeCodeEngine.sessionUuid(null).equals(ClaudeCodeEngine.sessionUuid(null)));
    }
}
