package dev.agentfn.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.Usage;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServerResource;
import dev.agentfn.tracing.export.ExportStatus;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The gateway builds traces on a worker of their own (TurnTracer.traceWorker), off the threads that relay answers;
 * what a turn's next request needs of the call before it is recorded before the answer is handed over.
 */
@QuarkusTest
@TestProfile(GatewayTest.Enabled.class)
class GatewayTraceWorkerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PROMPT = "{\"role\":\"user\",\"content\":\"List the files\"}";
    static final String ASK = "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_w_1\","
            + "\"name\":\"Glob\",\"input\":{\"pattern\":\"*\"}}]}";
    static final String RESULT = "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_w_1\","
            + "\"content\":\"a.txt\"}]}";
    static final String DONE = "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"a.txt\"}]}";
    @Inject
    TurnTracers tracers;
    MlflowPython mlflow = new MlflowPython(MlflowServerResource.server());

    @Test
    void theTurnsNextRequestFindsThePreviousCallWhileItsTraceStillWaitsForTheWorker() throws Exception {
        List<Runnable> waiting = new ArrayList<>();
        TurnTracer gateway = tracers.instance(new TurnCache(100), false, waiting::add);
        String session = UUID.randomUUID().toString();

        TurnTracer.Pending first = gateway.begin(exchange(gateway, session, PROMPT));
        CompletableFuture<ExportStatus> firstWrite = gateway.end(first, answer(gateway, ASK, "tool_use", new Usage(100, 10, 0, 0)));
        assertEquals(1, waiting.size(), "the trace waits for the worker");
        assertFalse(firstWrite.isDone());

        TurnTracer.Pending second = gateway.begin(exchange(gateway, session, PROMPT, ASK, RESULT));
        TurnState state = second.state.getNow(null);
        assertNotNull(state, "known at once, without asking MLflow (which has nothing of the turn yet)");
        assertTrue(state.knows(TurnState.MAIN, 0));

        waiting.remove(0).run();
        assertEquals(ExportStatus.DELIVERED, firstWrite.get(60, TimeUnit.SECONDS));
        CompletableFuture<ExportStatus> lastWrite = gateway.end(second, answer(gateway, DONE, "end_turn", new Usage(120, 11, 0, 0)));
        waiting.remove(0).run();
        assertEquals(ExportStatus.DELIVERED, lastWrite.get(60, TimeUnit.SECONDS));

        JsonNode usage = JSON.readTree(mlflow.json("""
                import mlflow, json
                found = mlflow.search_traces(experiment_ids=[e.experiment_id for e in mlflow.search_experiments()],
                                             filter_string="metadata.`mlflow.trace.session` = '%s'", return_type="list")
                print(json.dumps([t.info.trace_metadata.get("mlflow.trace.tokenUsage") for t in found]))
                """.formatted(session)).get(0).asText());
        assertEquals(220, usage.get("input_tokens").asInt(), "both calls: " + usage);
    }

    @Test
    void aTraceHandedToAWorkerThatIsGoneIsBuiltByTheThreadThatHandsItOver() throws Exception {
        ThreadPoolExecutor worker = TurnTracer.traceWorker(1);
        worker.shutdown();
        TurnTracer gateway = tracers.instance(new TurnCache(100), false, worker);

        TurnTracer.Pending p = gateway.begin(exchange(gateway, UUID.randomUUID().toString(), PROMPT));
        ExportStatus status = gateway.end(p, answer(gateway, DONE, "end_turn", new Usage(10, 1, 0, 0)))
                .get(60, TimeUnit.SECONDS);

        assertEquals(ExportStatus.DELIVERED, status, "the answer held for its trace is not left waiting");
    }

    private static Exchange exchange(TurnTracer gateway, String session, String... messages) throws Exception {
        JsonNode body = JSON.readTree("{\"model\":\"claude-sonnet-5-5\",\"max_tokens\":100,\"tools\":[{\"name\":\"Glob\"}],"
                + "\"messages\":[" + String.join(",", messages) + "]}");
        return new Exchange(body, session, null, "claude-cli/2.1.330 (external, sdk-cli)", null, null, gateway.now());
    }

    private static Answer answer(TurnTracer gateway, String message, String stop, Usage usage) throws Exception {
        ObjectNode m = (ObjectNode) JSON.readTree(message);
        m.put("type", "message").put("model", "claude-sonnet-5-5").put("stop_reason", stop);
        return new Answer(200, m, usage, stop, "req_1", null, null, gateway.now());
    }
}
