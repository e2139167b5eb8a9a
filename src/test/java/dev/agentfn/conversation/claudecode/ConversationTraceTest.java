package dev.agentfn.conversation.claudecode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.SpanStatus;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.AttributePolicy;
import dev.agentfn.tracing.SpanClock;
import dev.agentfn.tracing.Tracer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The live trace built from real CLI 2.1.330 frames (fixtures) and from a synthetic subagent run. */
class ConversationTraceTest {
    static final ObjectMapper JSON = new ObjectMapper();
    final AtomicLong now = new AtomicLong(1_700_000_000_000_000_000L);
    final SpanClock clock = () -> now.addAndGet(1_000_000);
    final Tracer tracer = new Tracer(clock, new AttributePolicy(true, 65536, List.of(), List.of()), false);
    final List<String> seen = new ArrayList<>();

    final ConversationListener listener = new ConversationListener() {
        @Override
        public void textDelta(String text) {
            seen.add("text:" + text);
        }

        @Override
        public void toolCall(String toolUseId, String name, JsonNode input) {
            seen.add("call:" + name + ":" + toolUseId);
        }

        @Override
        public void toolResult(String toolUseId, String name, String content, boolean isError) {
            seen.add("result:" + name + ":" + content + ":" + isError);
        }

        @Override
        public boolean relayedAnything() {
            return !seen.isEmpty();
        }
    };

    static List<JsonNode> stdoutFrames(String fixture) throws IOException {
        try (InputStream in = ConversationTraceTest.class.getResourceAsStream("/claude-code-2.1.330/" + fixture)) {
            List<JsonNode> out = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("{")) {
                    out.add(JSON.readTree(line));
                }
            }
            return out;
        }
    }

    /** Feeds frames the way {@link CliRun} dispatches them; permission requests get the policy's answer. */
    Trace replay(List<JsonNode> frames) {
        ActiveTrace trace = tracer.start("claude_code_conversation", "AGENT", Optional.empty());
        ConversationTrace ct = new ConversationTrace(trace, listener, JSON);
        ToolPolicy policy = new ToolPolicy(List.of("Bash", "Read", "Write", "Task"), true);
        ct.promptSent(Map.of("role", "user", "content", "prompt"));
        for (JsonNode j : frames) {
            CliFrame f = CliFrame.of(j);
            if (ct.record(f)) {
                continue;
            }
            if (f instanceof CliFrame.ControlRequest r && r.subtype().equals("can_use_tool")) {
                ct.permission(r.request().path("tool_use_id").asText(), r.request().path("tool_name").asText(),
                        policy.decide(r.request().path("tool_name").asText(), r.request().path("input"),
                                List.of("Bash", "Read", "Write", "Task"), Path.of("/workspace")));
            } else if (f instanceof CliFrame.Result r) {
                ct.result(r);
            }
        }
        return trace.finish();
    }

    static List<SpanData> named(Trace t, String name) {
        return t.spans().stream().filter(s -> s.name().equals(name)).toList();
    }

    static SpanData root(Trace t) {
        return t.spans().stream().filter(SpanData::isRoot).findFirst().orElseThrow();
    }

    @Test
    void framesOfOneMessageIdAreOneLlmSpanAndTheToolCallIsOneToolSpan() throws IOException {
        Trace t = replay(stdoutFrames("plain-bash-tool.jsonl"));
        List<SpanData> llm = named(t, "llm");
        assertEquals(2, llm.size(), "two message ids, though three assistant frames");
        SpanData first = llm.get(0);
        assertEquals("msg_fake_4c1f8e6eb2", first.attributes().get("gen_ai.response.id"));
        assertEquals("anthropic", first.attributes().get("mlflow.message.format"));
        @SuppressWarnings("unchecked")
        Map<String, Object> usage = (Map<String, Object>) first.attributes().get("mlflow.chat.tokenUsage");
        assertEquals(100L, ((Number) usage.get("input_tokens")).longValue(), "usage taken once, not summed over frames");
        assertTrue(first.attributes().get("mlflow.spanOutputs").toString().contains("toolu_fake_c04f47d0"));

        SpanData bash = named(t, "tool_Bash").get(0);
        assertEquals(root(t).spanId(), bash.parentSpanId());
        assertTrue(bash.attributes().get("mlflow.spanOutputs").toString().contains("hello-from-fake"));
        assertTrue(bash.attributes().get("claude_code.permission_decision").toString().contains("config"));
        assertTrue(bash.startTimeUnixNano() >= first.startTimeUnixNano());
        assertTrue(bash.endTimeUnixNano() <= llm.get(1).startTimeUnixNano(), "the tool ran before the next call");
        assertEquals(SpanStatus.Code.OK, bash.status().code());

        Map<String, Object> r = root(t).attributes();
        assertEquals("8bee61dc-2e2e-43cd-a301-83ec67ebffbe", r.get("claude_code.session_id"));
        assertEquals("2.1.330", r.get("claude_code.version"));
        assertEquals(0.0012000000000000001, (Double) r.get("claude_code.total_cost_usd"), 1e-12);
        assertEquals(List.of("text:Running a command.", "call:Bash:toolu_fake_c04f47d0",
                "result:Bash:hello-from-fake:false", "text:All done (fake)."), seen);
    }

    @Test
    void aPermissionRequestIsRecordedOnItsToolSpan() throws IOException {
        Trace t = replay(stdoutFrames("can-use-tool-permission.jsonl"));
        SpanData bash = named(t, "tool_Bash").get(0);
        assertEquals(1, bash.events().size());
        assertEquals("permission", bash.events().get(0).name());
        assertEquals("allow", bash.events().get(0).attributes().get("decision"));
    }

    @Test
    void cliRetriesAreEventsOnTheRoot() throws IOException {
        Trace t = replay(stdoutFrames("retries-529.jsonl"));
        long retries = root(t).events().stream().filter(e -> e.name().equals("api_retry")).count();
        assertTrue(retries >= 1, "api_retry frames recorded");
        assertEquals(SpanStatus.Code.OK, root(t).status().code());
    }

    @Test
    void subagentFramesNestUnderTheirTaskToolSpan() throws IOException {
        List<JsonNode> frames = new ArrayList<>();
        frames.add(assistant("msg_main1", null, "{\"type\":\"tool_use\",\"id\":\"toolu_task\",\"name\":\"Task\",\"input\":{\"prompt\":\"look\"}}"));
        frames.add(assistant("msg_sub1", "toolu_task", "{\"type\":\"tool_use\",\"id\":\"toolu_read\",\"name\":\"Read\",\"input\":{\"file_path\":\"/workspace/a\"}}"));
        frames.add(toolResult("toolu_read", "toolu_task", "file a"));
        frames.add(assistant("msg_sub2", "toolu_task", "{\"type\":\"text\",\"text\":\"sub done\"}"));
        frames.add(toolResult("toolu_task", null, "sub done"));
        frames.add(assistant("msg_main2", null, "{\"type\":\"text\",\"text\":\"all done\"}"));
        frames.add(JSON.readTree("{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"num_turns\":2,"
                + "\"result\":\"all done\",\"session_id\":\"s\",\"usage\":{},\"modelUsage\":{}}"));
        Trace t = replay(frames);
        SpanData task = named(t, "tool_Task").get(0);
        SpanData read = named(t, "tool_Read").get(0);
        assertEquals(task.spanId(), read.parentSpanId());
        List<SpanData> llm = named(t, "llm");
        assertEquals(4, llm.size());
        long underTask = llm.stream().filter(s -> task.spanId().equals(s.parentSpanId())).count();
        assertEquals(2, underTask, "the subagent's two model calls hang under Task");
        assertEquals(root(t).spanId(), task.parentSpanId());
        assertTrue(task.endTimeUnixNano() >= read.endTimeUnixNano());
        assertTrue(seen.contains("text:all done") && !seen.contains("text:sub done"), "only the main agent's text is relayed");
    }

    @Test
    void eachCallGetsItsFinalUsageFromMessageDeltaOnceAndTheConversationSoFarAsChatInputs() throws IOException {
        List<JsonNode> frames = new ArrayList<>();
        frames.add(JSON.readTree("{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s\",\"tools\":[\"Read\"]}"));
        frames.add(streamEvent("msg_a", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_a\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}"));
        frames.add(assistant("msg_a", null, "{\"type\":\"text\",\"text\":\"Reading.\"}"));
        frames.add(assistant("msg_a", null, "{\"type\":\"tool_use\",\"id\":\"toolu_r\",\"name\":\"Read\",\"input\":{\"file_path\":\"/w/a\"}}"));
        frames.add(streamEvent("msg_a", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},"
                + "\"usage\":{\"input_tokens\":10,\"output_tokens\":7}}"));
        frames.add(toolResult("toolu_r", null, "{\\\"a\\\":1}"));
        frames.add(assistant("msg_b", null, "{\"type\":\"text\",\"text\":\"done\"}"));
        frames.add(streamEvent("msg_b", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":3}}"));
        frames.add(JSON.readTree("{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"done\","
                + "\"session_id\":\"s\",\"modelUsage\":{\"claude-sonnet-5-5\":{\"inputTokens\":25,\"outputTokens\":10}}}"));
        Trace t = replay(frames);
        List<SpanData> llm = named(t, "llm");
        assertEquals(2, llm.size());
        assertEquals(Map.of("input_tokens", 10L, "output_tokens", 7L, "total_tokens", 17L, "cache_read_input_tokens", 0L,
                "cache_creation_input_tokens", 0L), llm.get(0).attributes().get("mlflow.chat.tokenUsage"),
                "the message_delta's usage, not the snapshot's output_tokens 1, and not summed over the two frames");
        assertEquals("tool_use", llm.get(0).attributes().get("anthropic.stop_reason"));
        assertEquals(Map.of("input_tokens", 10L, "output_tokens", 3L, "total_tokens", 13L, "cache_read_input_tokens", 0L,
                "cache_creation_input_tokens", 0L), llm.get(1).attributes().get("mlflow.chat.tokenUsage"),
                "a delta without input_tokens keeps the snapshot's");
        assertEquals(Map.of("input_tokens", 5L, "output_tokens", 0L, "total_tokens", 5L, "cache_read_input_tokens", 0L,
                "cache_creation_input_tokens", 0L), root(t).attributes().get("claude_code.usage_outside_llm_spans"),
                "what the CLI counted beyond the spans is named on the root");

        Map<?, ?> first = (Map<?, ?>) llm.get(0).attributes().get("mlflow.spanInputs");
        Map<?, ?> second = (Map<?, ?>) llm.get(1).attributes().get("mlflow.spanInputs");
        assertEquals("claude-sonnet-5-5", second.get("model"));
        assertEquals(List.of(Map.of("name", "Read")), second.get("tools"));
        assertEquals(List.of(Map.of("role", "user", "content", "prompt")), first.get("messages"), "the first call saw the prompt");
        List<?> messages = (List<?>) second.get("messages");
        assertEquals(List.of("user", "assistant", "user"), messages.stream().map(m -> ((Map<?, ?>) m).get("role")).toList());
        assertTrue(messages.get(1).toString().contains("toolu_r") && messages.get(2).toString().contains("tool_result"));
        assertTrue(messages.get(0) == ((List<?>) first.get("messages")).get(0), "messages are shared between calls, not copied");
        assertEquals(List.of(Map.of("type", "function", "function", Map.of("name", "Read"))),
                llm.get(1).attributes().get("mlflow.chat.tools"));

        SpanData read = named(t, "tool_Read").get(0);
        assertEquals(Map.of("result", Map.of("a", 1)), read.attributes().get("mlflow.spanOutputs"), "a JSON result as JSON");
        assertEquals(false, read.attributes().get("tool.is_error"));
        SpanData startup = named(t, "claude_code_startup").get(0);
        assertEquals(root(t).spanId(), startup.parentSpanId());
        assertEquals(root(t).startTimeUnixNano(), startup.startTimeUnixNano());
        assertTrue(startup.endTimeUnixNano() <= llm.get(0).startTimeUnixNano());
        assertEquals(20, llm.get(0).attributes().get("mlflow.spanLogLevel"));
    }

    static JsonNode streamEvent(String messageId, String event) throws IOException {
        return JSON.readTree("{\"type\":\"stream_event\",\"event\":" + event + ",\"parent_tool_use_id\":null,"
                + "\"session_id\":\"s\",\"api_message_id\":\"" + messageId + "\"}");
    }

    @Test
    void openSpansAreClosedAsErrorsWhenTheRunFails() throws IOException {
        ActiveTrace trace = tracer.start("claude_code_conversation", "AGENT", Optional.empty());
        ConversationTrace ct = new ConversationTrace(trace, listener, JSON);
        ct.promptSent("p");
        ct.assistant(new CliFrame.Assistant(assistant("m1", null,
                "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"Write\",\"input\":{}}")));
        ct.closeOpen("DeadlineExceeded");
        Trace t = trace.finish();
        assertEquals(SpanStatus.Code.ERROR, named(t, "tool_Write").get(0).status().code());
        assertEquals(SpanStatus.Code.ERROR, named(t, "llm").get(0).status().code());
        assertNull(CliFrame.parentToolUseId(JSON.readTree("{\"parent_tool_use_id\":null}")));
    }

    static JsonNode assistant(String messageId, String parent, String block) throws IOException {
        return JSON.readTree("{\"type\":\"assistant\",\"message\":{\"id\":\"" + messageId + "\",\"model\":\"claude-sonnet-5-5\","
                + "\"content\":[" + block + "],\"usage\":{\"input_tokens\":10,\"output_tokens\":1}},\"parent_tool_use_id\":"
                + (parent == null ? "null" : "\"" + parent + "\"") + ",\"session_id\":\"s\"}");
    }

    static JsonNode toolResult(String toolUseId, String parent, String content) throws IOException {
        return JSON.readTree("{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
                + "\"tool_use_id\":\"" + toolUseId + "\",\"content\":\"" + content + "\",\"is_error\":false}]},"
                + "\"parent_tool_use_id\":" + (parent == null ? "null" : "\"" + parent + "\"") + ",\"session_id\":\"s\"}");
    }
}
