package dev.agentfn.conversation.claudecode;

import static dev.agentfn.conversation.claudecode.ClaudeCodeEngineTest.invoke;
import static dev.agentfn.conversation.claudecode.ClaudeCodeEngineTest.spans;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Spare CLI processes with the real CLI: after a first invocation a spare waits, the next invocation with the same
 * options is answered by it (in its directories, under the caller's session), a request with other options gets its
 * own process and the pool follows those options once they come twice in a row, and closing the engine kills the
 * spare.
 */
@QuarkusTest
@TestProfile(ClaudeCodeStandbyTest.Spares.class)
class ClaudeCodeStandbyTest {
    static final Path WORK = Path.of("target", "claude-code-standby").toAbsolutePath();

    public static final class Spares implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("agentfn.claude-code.session-dir", "", "agentfn.claude-code.standby-processes", "1",
                    "agentfn.claude-code.work-root", WORK.toString());
        }
    }

    FakeAnthropicServer fake = FakeAnthropicResource.fake();
    ClaudeCodeEngineTest traces = new ClaudeCodeEngineTest();
    @Inject
    ClaudeCodeEngine engine;

    /** Live CLI processes started under this test's work root (children of this JVM). */
    static List<ProcessHandle> spares() {
        return ProcessHandle.current().children().filter(ProcessHandle::isAlive).filter(p -> {
            try {
                return new String(Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "environ")),
                        StandardCharsets.UTF_8).contains("CLAUDE_CONFIG_DIR=" + WORK);
            } catch (IOException e) {
                return false;
            }
        }).toList();
    }

    static ProcessHandle awaitOneSpareOtherThan(long pid) throws InterruptedException {
        List<ProcessHandle> now = spares();
        for (int i = 0; i < 200 && !(now.size() == 1 && now.get(0).pid() != pid); i++) {
            Thread.sleep(50);
            now = spares();
        }
        assertEquals(1, now.size(), "one spare waits: " + now);
        assertNotEquals(pid, now.get(0).pid(), "a new spare");
        return now.get(0);
    }

    static String cwd(ProcessHandle p) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd")).toString();
    }

    static JsonNode root(JsonNode trace) {
        return spans(trace, "AGENT").get(0);
    }

    @Test
    void theNextInvocationWithTheSameOptionsIsAnsweredByASpareStartedAheadOfIt() throws Exception {
        fake.reset();
        fake.enqueue(FakeTurn.text("First, from a process started on demand."),
                FakeTurn.text("Second, from the spare."), FakeTurn.text("Third, other options."),
                FakeTurn.text("Fourth, other options again."));
        String first = invoke("{\"prompt\":\"Say one\",\"engine\":\"claude-code\"}").statusCode(200)
                .body("output", equalTo("First, from a process started on demand.")).extract().path("trace.id");
        ProcessHandle spare = awaitOneSpareOtherThan(-1);
        String spareCwd = cwd(spare);

        var second = invoke("{\"prompt\":\"Say two\",\"engine\":\"claude-code\",\"session_id\":\"chat-7\",\"user\":\"ada\"}")
                .statusCode(200).body("output", equalTo("Second, from the spare."))
                .body("session_id", equalTo("chat-7")).body("trace.export", equalTo("delivered")).extract();
        ProcessHandle next = awaitOneSpareOtherThan(spare.pid());

        JsonNode t1 = traces.trace(first);
        JsonNode t2 = traces.trace(second.path("trace.id"));
        assertEquals("false", root(t1).at("/attributes/claude_code.standby").asText());
        assertEquals("true", root(t2).at("/attributes/claude_code.standby").asText());
        assertEquals(spareCwd, root(t2).at("/attributes/claude_code.cwd").asText(), "answered in the spare's directory");
        assertEquals("OK", t2.get("state").asText());
        assertEquals("chat-7", t2.at("/metadata/mlflow.trace.session").asText(), "the caller's session, not the spare's");
        assertEquals("ada", t2.at("/metadata/mlflow.trace.user").asText());
        assertEquals("Second, from the spare.", spans(t2, "LLM").get(0).at("/outputs/content/0/text").asText());
        String sent = fake.messageRequests().get(1).json().get("messages").toString();
        assertTrue(sent.contains("Say two") && !sent.contains("Say one"), "the spare's conversation is new: " + sent);

        String other = "{\"prompt\":\"Say three\",\"engine\":\"claude-code\",\"system\":\"Be terse.\"}";
        String third = invoke(other).statusCode(200).body("output", equalTo("Third, other options.")).extract()
                .path("trace.id");
        assertEquals("false", root(traces.trace(third)).at("/attributes/claude_code.standby").asText(),
                "a spare serves only its own options");
        Thread.sleep(1000);
        assertEquals(List.of(next), spares(), "options asked once do not take the pool over");
        invoke(other).statusCode(200).body("output", equalTo("Fourth, other options again."));
        awaitOneSpareOtherThan(next.pid());
        for (int i = 0; i < 100 && workDirectories().size() != 1; i++) {
            Thread.sleep(50);
        }
        assertEquals(1, workDirectories().size(), "asked twice in a row, they do; only the new spare's directories are left");

        engine.close();
        for (int i = 0; i < 100 && !(spares().isEmpty() && workDirectories().isEmpty()); i++) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), spares(), "closing the engine kills its spare");
        assertEquals(List.of(), workDirectories(), "and deletes its directories");
    }

    static List<Path> workDirectories() throws IOException {
        try (Stream<Path> s = Files.exists(WORK) ? Files.list(WORK) : Stream.empty()) {
            return s.toList();
        }
    }
}
