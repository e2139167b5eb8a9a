package dev.agentfn.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.Usage;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import dev.agentfn.tracing.export.ExportStatus;
import dev.agentfn.tracing.spool.TraceSpool;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code agentfn.gateway.turn-end-wait=spool} against the real MLflow: the turn's last write lets its answer go once
 * the trace is spooled, and the export that follows still leaves the complete,
 * finished trace in MLflow and nothing of it in the spool. (That the answer does not wait for MLflow is shown with an
 * export that never answers, in {@code TraceDeliveryTest}.)
 */
@QuarkusTest
@TestProfile(GatewayTest.Enabled.class)
class GatewayTurnEndWaitTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @Inject
    TurnTracers tracers;
    @Inject
    TraceSpool spool;
    MlflowPython mlflow = new MlflowPython(MlflowServerResource.server());

    @Test
    void aTurnWhoseLastAnswerWaitedOnlyForTheSpoolStillLandsWholeInMlflowAndLeavesTheSpool() throws Exception {
        TurnTracer gateway = tracers.instance(new TurnCache(100), true, TurnTracer.traceWorker(16));
        String session = UUID.randomUUID().toString();
        String prompt = "{\"role\":\"user\",\"content\":\"What is in a.txt?\"}";
        String ask = "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_wait_1\",\"name\":\"Read\","
                + "\"input\":{\"file_path\":\"a.txt\"}}]}";
        String result = "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_wait_1\",\"content\":\"hi\"}]}";

        ExportStatus first = serve(gateway, session, List.of(prompt), ask, "tool_use", new Usage(100, 10, 0, 0));
        assertEquals(ExportStatus.DELIVERED, first, "an intermediate write is not spooled ahead of its export");
        ExportStatus last = serve(gateway, session, List.of(prompt, ask, result),
                "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"It says hi.\"}]}", "end_turn",
                new Usage(120, 5, 0, 0));
        assertEquals(ExportStatus.SPOOLED, last, "its answer waited for the spool only");

        // the answer came before the export: MLflow has the finished trace once it confirmed the export, and the
        // confirmation takes the spooled copy out (until then a reader may see the write half done)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (spooled(session) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(!spooled(session), "MLflow's confirmation took the trace out of the spool");
        JsonNode t = finishedTrace(session);
        assertEquals("[\"claude_code_conversation\",\"llm\",\"llm\",\"tool_Read\"]", t.get("names").toString());
        assertEquals(100 + 10 + 120 + 5, JSON.readTree(t.get("usage").asText()).get("total_tokens").asInt(), t.toString());
    }

    /** Held in a slot while its export is in flight (nothing else is spooled ahead here), or listed in the spool. */
    private boolean spooled(String session) {
        if (spool instanceof dev.agentfn.tracing.spool.DirectoryTraceSpool d && !d.heldAheadTraceIds().isEmpty()) {
            return true;
        }
        return spool.oldest(10_000).stream()
                .anyMatch(s -> session.equals(s.trace().info().metadata().get(MlflowKeys.Metadata.SESSION)));
    }

    /** The session's one trace, once MLflow shows it finished. */
    private JsonNode finishedTrace(String session) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            JsonNode found = mlflow.json("""
                    import mlflow, json
                    found = mlflow.search_traces(experiment_ids=[e.experiment_id for e in mlflow.search_experiments()],
                                                 filter_string="metadata.`mlflow.trace.session` = '%s'", return_type="list")
                    print(json.dumps([{"id": t.info.trace_id, "state": str(getattr(t.info.state, "value", t.info.state)),
                                       "usage": t.info.trace_metadata.get("mlflow.trace.tokenUsage"),
                                       "names": sorted(s.name for s in t.data.spans)} for t in found]))
                    """.formatted(session));
            if (found.size() == 1 && "OK".equals(found.get(0).get("state").asText()) || System.nanoTime() > deadline) {
                assertEquals(1, found.size(), "one trace for the turn: " + found);
                assertEquals("OK", found.get(0).get("state").asText(), found.toString());
                return found.get(0);
            }
            Thread.sleep(200);
        }
    }

    private ExportStatus serve(TurnTracer gateway, String session, List<String> messages, String answer, String stop,
            Usage usage) throws Exception {
        JsonNode body = JSON.readTree("{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":100,\"tools\":[{\"name\":\"Read\"}],\"messages\":["
                + String.join(",", messages) + "]}");
        Exchange ex = new Exchange(body, session, null, "claude-cli/2.1.330 (external, sdk-cli)", null, null, gateway.now());
        TurnTracer.Pending p = gateway.begin(ex);
        ObjectNode message = (ObjectNode) JSON.readTree(answer);
        message.put("type", "message").put("model", "claude-sonnet-5-5").put("stop_reason", stop);
        return gateway.end(p, new Answer(200, message, usage, stop, "req_1", null, null, gateway.now()))
                .get(60, TimeUnit.SECONDS);
    }
}
