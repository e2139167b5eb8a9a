package dev.agentfn.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.conversation.Usage;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import dev.agentfn.tracing.export.ExportStatus;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The requests of one turn alternate between two gateway instances that share nothing but MLflow: each has its own
 * turn cache and its own tracer over the deployment's delivery to MLflow, as two processes would (in one JVM, so the
 * test needs no second server; nothing but the MLflow server is shared between them). The turn still comes out as
 * one trace with every span, the tool call timed from the answer one instance served to the request the other
 * served, and the totals of all three calls.
 */
@QuarkusTest
@TestProfile(GatewayTest.Enabled.class)
class GatewayTwoInstancesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @Inject
    TurnTracers tracers;
    MlflowPython mlflow = new MlflowPython(MlflowServerResource.server());

    TurnTracer instance() {
        return tracers.instance();
    }

    @Test
    void oneTurnServedAlternatelyByTwoInstancesIsOneCompleteTrace() throws Exception {
        TurnTracer a = instance();
        TurnTracer b = instance();
        String session = UUID.randomUUID().toString();
        String prompt = "{\"role\":\"user\",\"content\":\"List the files\"}";
        String ask1 = "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_2i_1\",\"name\":\"Glob\",\"input\":{\"pattern\":\"*\"}}]}";
        String res1 = "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_2i_1\",\"content\":\"a.txt\"}]}";
        String ask2 = "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_2i_2\",\"name\":\"Read\",\"input\":{\"file_path\":\"a.txt\"}}]}";
        String res2 = "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_2i_2\",\"content\":\"hello\"}]}";

        ExportStatus s1 = serve(a, session, List.of(prompt), ask1, "tool_use", new Usage(100, 10, 0, 0));
        ExportStatus s2 = serve(b, session, List.of(prompt, ask1, res1), ask2, "tool_use", new Usage(120, 11, 5, 0));
        ExportStatus s3 = serve(a, session, List.of(prompt, ask1, res1, ask2, res2),
                "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"a.txt says hello\"}]}", "end_turn",
                new Usage(140, 12, 0, 7));
        assertEquals(List.of(ExportStatus.DELIVERED, ExportStatus.DELIVERED, ExportStatus.DELIVERED), List.of(s1, s2, s3));

        JsonNode traces = mlflow.json("""
                import mlflow, json
                found = mlflow.search_traces(experiment_ids=[e.experiment_id for e in mlflow.search_experiments()],
                                             filter_string="metadata.`mlflow.trace.session` = '%s'", return_type="list")
                out = []
                for t in found:
                    out.append({"state": str(getattr(t.info.state, "value", t.info.state)), "usage": t.info.trace_metadata.get("mlflow.trace.tokenUsage"),
                                "spans": [{"name": s.name, "parent": s.parent_id, "id": s.span_id, "start": s.start_time_ns, "end": s.end_time_ns,
                                           "outputs": s.outputs} for s in t.data.spans]})
                print(json.dumps(out, default=str))
                """.formatted(session));
        assertEquals(1, traces.size(), "one trace for the turn: " + traces);
        JsonNode t = traces.get(0);
        assertEquals("OK", t.get("state").asText());
        List<String> names = new java.util.ArrayList<>();
        t.get("spans").forEach(s -> names.add(s.get("name").asText()));
        names.sort(String::compareTo);
        assertEquals(List.of("claude_code_conversation", "llm", "llm", "llm", "tool_Glob", "tool_Read"), names);
        JsonNode usage = JSON.readTree(t.get("usage").asText());
        assertEquals(100 + 120 + 5 + 140 + 7, usage.get("input_tokens").asInt(), usage.toString());
        assertEquals(33, usage.get("output_tokens").asInt(), usage.toString());
        JsonNode root = find(t, "claude_code_conversation");
        JsonNode glob = find(t, "tool_Glob");
        JsonNode firstLlm = null;
        for (JsonNode s : t.get("spans")) {
            if (s.get("name").asText().equals("llm") && (firstLlm == null || s.get("start").asLong() < firstLlm.get("start").asLong())) {
                firstLlm = s;
            }
        }
        assertEquals(firstLlm.get("end").asLong(), glob.get("start").asLong(),
                "instance B timed the tool from the answer instance A served");
        assertEquals(firstLlm.get("start").asLong(), root.get("start").asLong(), "the turn starts at its first request");
        assertEquals("a.txt says hello", root.at("/outputs/response").asText());
        t.get("spans").forEach(s -> {
            if (!s.get("name").asText().equals("claude_code_conversation")) {
                assertEquals(root.get("id").asText(), s.get("parent").asText());
            }
        });
    }

    /**
     * A subagent whose first request reaches an instance that never saw its parent turn still joins that turn: the
     * instance finds it among the session's newest turns in MLflow, by the Agent call waiting there for the subagent.
     */
    @Test
    void aSubagentOnAnInstanceThatNeverSawItsParentTurnIsNestedInThatTurn() throws Exception {
        TurnTracer a = instance();
        TurnTracer b = instance();
        String session = UUID.randomUUID().toString();
        String prompt = "{\"role\":\"user\",\"content\":\"How many files are there?\"}";
        String askAgent = "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_sub_1\",\"name\":\"Agent\","
                + "\"input\":{\"prompt\":\"Count the files\",\"description\":\"count\",\"subagent_type\":\"Explore\"}}]}";
        String agentDone = "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_sub_1\",\"content\":\"3 files\"}]}";

        serve(a, session, null, List.of(prompt), askAgent, "tool_use", new Usage(50, 5, 0, 0));
        serve(b, session, "agent-on-b", List.of("{\"role\":\"user\",\"content\":\"Count the files\"}"),
                "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"3 files\"}]}", "end_turn",
                new Usage(30, 3, 0, 0));
        serve(a, session, null, List.of(prompt, askAgent, agentDone),
                "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"There are 3.\"}]}", "end_turn",
                new Usage(60, 4, 0, 0));

        JsonNode traces = mlflow.json("""
                import mlflow, json
                found = mlflow.search_traces(experiment_ids=[e.experiment_id for e in mlflow.search_experiments()],
                                             filter_string="metadata.`mlflow.trace.session` = '%s'", return_type="list")
                print(json.dumps([{"spans": [{"name": s.name, "parent": s.parent_id, "id": s.span_id} for s in t.data.spans]}
                                  for t in found]))
                """.formatted(session));
        assertEquals(1, traces.size(), "the subagent is in its parent's turn, not a trace of its own: " + traces);
        JsonNode sub = find(traces.get(0), "subagent_Explore");
        assertEquals(find(traces.get(0), "tool_Agent").get("id").asText(), sub.get("parent").asText(),
                "under the Agent call that started it");
        long underSub = java.util.stream.StreamSupport.stream(traces.get(0).get("spans").spliterator(), false)
                .filter(s -> s.get("name").asText().equals("llm") && s.get("parent").asText().equals(sub.get("id").asText()))
                .count();
        assertEquals(1, underSub, "the subagent's model call, served by B, under the subagent: " + traces);
    }

    /**
     * An idle turn is closed by the instance that cached it, unless MLflow's copy of the turn shows another instance
     * continued it since: A served the first request, B the second; A's idle sweep leaves the turn alone while B's
     * write is newer than A's idle horizon, and closes it as abandoned once it is not.
     */
    @Test
    void anIdleTurnIsClosedOnlyIfNoInstanceContinuedIt() throws Exception {
        TurnCache cacheA = new TurnCache(100);
        TurnTracer a = tracers.instance(cacheA, false, TurnTracer.traceWorker(16));
        TurnTracer b = instance();
        String session = UUID.randomUUID().toString();
        String prompt = "{\"role\":\"user\",\"content\":\"Start something\"}";
        String ask = "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_idle_1\",\"name\":\"Glob\",\"input\":{}}]}";
        String res = "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_idle_1\",\"content\":\"x\"}]}";
        serve(a, session, List.of(prompt), ask, "tool_use", new Usage(10, 1, 0, 0));
        long afterA = a.now();
        serve(b, session, List.of(prompt, ask, res), ask.replace("toolu_idle_1", "toolu_idle_2"), "tool_use", new Usage(10, 1, 0, 0));

        List<TurnCache.Open> idle = cacheA.sweep(afterA + 1);
        assertEquals(1, idle.size(), "A's cache holds the turn, idle since its own request");
        assertEquals(ExportStatus.DISABLED, a.abandonIfStill(idle.get(0), afterA + 1).get(60, TimeUnit.SECONDS),
                "B continued the turn after A's horizon: nothing written");
        assertEquals(ExportStatus.DELIVERED, a.abandonIfStill(idle.get(0), b.now()).get(60, TimeUnit.SECONDS),
                "nobody continued it before this horizon: closed");
        JsonNode t = mlflow.json("""
                import mlflow, json
                found = mlflow.search_traces(experiment_ids=[e.experiment_id for e in mlflow.search_experiments()],
                                             filter_string="metadata.`mlflow.trace.session` = '%s'", return_type="list")
                print(json.dumps([{"state": str(getattr(t.info.state, "value", t.info.state)),
                                   "names": sorted(s.name for s in t.data.spans)} for t in found]))
                """.formatted(session));
        assertEquals(1, t.size());
        assertEquals("ERROR", t.get(0).get("state").asText(), "closed as abandoned");
        assertEquals("[\"claude_code_conversation\",\"llm\",\"llm\",\"tool_Glob\"]", t.get(0).get("names").toString(),
                "nothing written before is lost");
    }

    private static JsonNode find(JsonNode trace, String name) {
        for (JsonNode s : trace.get("spans")) {
            if (s.get("name").asText().equals(name)) {
                return s;
            }
        }
        throw new AssertionError(name + " missing");
    }

    private ExportStatus serve(TurnTracer instance, String session, List<String> messages, String answer, String stop,
            Usage usage) throws Exception {
        return serve(instance, session, null, messages, answer, stop, usage);
    }

    private ExportStatus serve(TurnTracer instance, String session, String agentId, List<String> messages, String answer,
            String stop, Usage usage) throws Exception {
        JsonNode body = JSON.readTree("{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":100,\"tools\":[{\"name\":\"Glob\"}],"
                + "\"messages\":[" + String.join(",", messages) + "]}");
        Exchange ex = new Exchange(body, session, agentId, "claude-cli/2.1.330 (external, sdk-cli)", null, null, instance.now());
        TurnTracer.Pending p = instance.begin(ex);
        JsonNode message = JSON.readTree(answer);
        ((com.fasterxml.jackson.databind.node.ObjectNode) message).put("type", "message").put("model", "claude-sonnet-5-5")
                .put("stop_reason", stop);
        ExportStatus status = instance.end(p, new Answer(200, message, usage, stop, "req_1", null, null, instance.now()))
                .get(60, TimeUnit.SECONDS);
        assertTrue(status == ExportStatus.DELIVERED, "delivered: " + status);
        return status;
    }
}
