package dev.agentfn.conversation.claudecode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.ConversationException;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.AttributePolicy;
import dev.agentfn.tracing.SpanClock;
import dev.agentfn.tracing.Tracer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a run ends, against a scripted stand-in of the CLI ({@code fake-cli.sh}): malformed output, an exit without
 * result, the control requests the CLI may send, the deadline. Each time the process (and what it started) is gone,
 * the workspace deleted and the process slot released.
 */
class CliRunTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor();
    final Tracer tracer = new Tracer(SpanClock.SYSTEM, new AttributePolicy(true, 65536, List.of(), List.of()), false);
    final AtomicInteger released = new AtomicInteger();
    @TempDir
    Path dir;
    Workspace ws;
    CliRun run;
    String expectedVersion = "2.1.330";

    @AfterAll
    static void stopTimer() {
        TIMER.shutdownNow();
    }

    CompletableFuture<CliFrame.Result> start(String mode, Duration deadline, Map<String, String> extraEnv) throws Exception {
        Path script = dir.resolve("fake-cli.sh");
        Files.copy(Path.of(getClass().getResource("/claude-code-fake/fake-cli.sh").toURI()), script);
        script.toFile().setExecutable(true);
        ws = Workspace.temporary(dir.resolve("work-root"));
        CliCommand cmd = new CliCommand(script, "", List.of("Write"), List.of(), 3, Optional.empty(), "m", "default",
                false, "00000000-0000-0000-0000-000000000001");
        Map<String, String> env = new HashMap<>(CliCommand.environment(new CliCommand.Credentials("http://127.0.0.1:9",
                Optional.of("sk-ant-secret-for-test"), Optional.empty()), ws.cwd(), ws.config(), ws.home(), ws.tmp(),
                "00-x-y-01", "sdk-java", 0));
        env.put("MODE", mode);
        env.putAll(extraEnv);
        ActiveTrace trace = tracer.start("claude_code_conversation", "AGENT", Optional.empty());
        run = new CliRun(cmd, env, ws, new ToolPolicy(List.of("Write"), false), JSON, TIMER,
                new CliRun.Settings(Duration.ofSeconds(10), Duration.ofMillis(200), Duration.ofSeconds(2), 1 << 20,
                        Optional.of(expectedVersion),
                        new dev.agentfn.config.Secrets(List.of("sk-ant-secret-for-test"))));
        ObjectNode user = JSON.createObjectNode().put("type", "user");
        return run.spawn().converse(new ConversationTrace(trace, ConversationListener.NONE, JSON),
                released::incrementAndGet, user, "prompt", deadline);
    }

    Throwable failure(CompletableFuture<?> f) throws Exception {
        try {
            f.get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("the run succeeded");
    }

    static String state(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (java.io.IOException e) {
            return "gone";
        }
    }

    void assertCleanedUp() {
        assertFalse(Files.exists(ws.root()), "workspace deleted");
        assertEquals(1, released.get(), "slot released once");
    }

    @Test
    void aCliOfAnotherVersionIsUnavailableNamingTheSetting() throws Exception {
        expectedVersion = "9.9.9";
        Throwable err = failure(start("control", Duration.ofSeconds(20), Map.of()));
        assertTrue(err instanceof ConversationException.Unavailable u
                && u.setting().equals("agentfn.claude-code.expected-version"), err.toString());
        assertTrue(err.getMessage().contains("2.1.330") && err.getMessage().contains("9.9.9"), err.getMessage());
        assertCleanedUp();
    }

    @Test
    void aMalformedLineFailsTheRunAndKillsTheProcess() throws Exception {
        Throwable err = failure(start("malformed", Duration.ofSeconds(20), Map.of()));
        assertTrue(err instanceof ConversationException.Upstream u && u.errorType().equals("cli_malformed_output"), err.toString());
        assertCleanedUp();
    }

    @Test
    void anExitWithoutResultReportsTheCodeAndStderrWithoutTheKey() throws Exception {
        Throwable err = failure(start("exit", Duration.ofSeconds(20), Map.of()));
        assertTrue(err instanceof ConversationException.Upstream u && u.errorType().equals("cli_exit"), err.toString());
        assertTrue(err.getMessage().contains("exit code 3"), err.getMessage());
        assertTrue(err.getMessage().contains("boom [REDACTED]"), err.getMessage());
        assertFalse(err.getMessage().contains("sk-ant-secret-for-test"));
        assertCleanedUp();
    }

    @Test
    void controlRequestsGetTheRightRepliesAndACancelGetsNone() throws Exception {
        CliFrame.Result r = start("control", Duration.ofSeconds(20), Map.of()).get(20, TimeUnit.SECONDS);
        String[] replies = new String(Base64.getDecoder().decode(r.text()), StandardCharsets.UTF_8).split("\n");
        JsonNode hook = JSON.readTree(replies[0]).path("response");
        assertEquals("h1", hook.path("request_id").asText());
        assertEquals("success", hook.path("subtype").asText());
        assertTrue(hook.path("response").path("continue").asBoolean());
        JsonNode mcp = JSON.readTree(replies[1]).path("response");
        assertEquals("m1", mcp.path("request_id").asText(), "the cancel of c1 got no reply in between");
        assertEquals("error", mcp.path("subtype").asText());
        JsonNode perm = JSON.readTree(replies[2]).path("response");
        assertEquals("p1", perm.path("request_id").asText());
        assertEquals("deny", perm.path("response").path("behavior").asText());
        assertTrue(perm.path("response").path("message").asText().contains("outside"));
        assertCleanedUp();
    }

    @Test
    void theDeadlineKillsTheProcessAndWhatItStarted() throws Exception {
        Path pidFile = dir.resolve("child.pid");
        Throwable err = failure(start("hang", Duration.ofMillis(1500), Map.of("PIDFILE", pidFile.toString())));
        assertTrue(err instanceof ConversationException.DeadlineExceeded, err.toString());
        long child = Long.parseLong(Files.readString(pidFile).strip());
        // Killed before the CLI, so the CLI reaps it; should it be orphaned anyway, PID 1 reaps it: allow a moment.
        for (int i = 0; i < 30 && ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false); i++) {
            Thread.sleep(100);
        }
        assertFalse(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false), () -> "the CLI's child was killed: "
                + state(child));
        assertCleanedUp();
    }
}
