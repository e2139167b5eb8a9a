package dev.agentfn.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.standin.FakeTurn;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.FakeOpenAiResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The configured Anthropic key never reaches a caller, whatever upstream or the model says: not in a problem
 * detail (JSON answer or SSE {@code error} event), not in answer text, not in streamed deltas split mid-key.
 */
@QuarkusTest
class SecretsNeverAnsweredTest {
    static final String KEY = FakeAnthropicResource.TEST_API_KEY;
    FakeAnthropicServer fake = FakeAnthropicResource.fake();

    @BeforeEach
    void reset() {
        fake.reset();
    }

    /** An upstream that echoes the key it was given, in the message and (401) in the error type too. */
    private void upstreamEchoesTheKey(int status) {
        String type = status == 401 ? "authentication_error " + KEY : "api_error";
        // 5xx is retried (max-retries 2): every attempt echoes it
        for (int i = 0; i < (status >= 500 ? 3 : 1); i++) {
            fake.enqueue(FakeTurn.error(status, type, "invalid x-api-key: " + KEY, Map.of("retry-after", "0")));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 401, 500})
    void upstreamErrorEchoingTheKeyIsRedactedInTheJsonProblem(int status) {
        upstreamEchoesTheKey(status);
        String body = given().contentType("application/json").body("{\"prompt\":\"Hi\"}")
                .when().post("/v1/invocations").then().statusCode(status == 500 ? 503 : 502).extract().asString();
        assertFalse(body.contains(KEY), body);
        assertFalse(body.contains("0123456789"), "no part of the key either: " + body);
        if (status != 401) {
            assertTrue(body.contains("invalid x-api-key: [REDACTED]"), body);
        }
    }

    /**
     * Not only Anthropic's key: any configured credential an upstream error repeats is redacted, here the OpenAI
     * judge key the test deployment is configured with (the same list holds the MLflow, tool and API keys:
     * SecretsTest).
     */
    @Test
    void upstreamErrorEchoingAnotherConfiguredSecretIsRedacted() {
        String openAi = FakeOpenAiResource.TEST_API_KEY;
        fake.enqueue(FakeTurn.error(400, "invalid_request_error", "do not send " + openAi + " here", Map.of()));
        String body = given().contentType("application/json").body("{\"prompt\":\"Hi\"}")
                .when().post("/v1/invocations").then().statusCode(502).extract().asString();
        assertFalse(body.contains(openAi), body);
        assertTrue(body.contains("do not send [REDACTED] here"), body);
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 401, 500})
    void upstreamErrorEchoingTheKeyIsRedactedInTheSseErrorEvent(int status) {
        upstreamEchoesTheKey(status);
        String body = sse("{\"prompt\":\"Hi\"}");
        List<String[]> events = ConversationFlowTestSupport.sse(body);
        assertEquals("error", events.get(events.size() - 1)[0], body);
        assertFalse(body.contains(KEY), body);
    }

    @Test
    void midStreamErrorEchoingTheKeyIsRedacted() {
        for (int i = 0; i < 3; i++) { // retried while nothing was relayed
            fake.enqueue(FakeTurn.midStreamError("api_error", "upstream saw " + KEY, 0));
        }
        String body = sse("{\"prompt\":\"Hi\"}");
        assertTrue(body.contains("event:error"), body);
        assertFalse(body.contains(KEY), body);
    }

    @Test
    void answerTextWithTheKeyIsRedacted() {
        fake.enqueue(FakeTurn.text("The key is " + KEY + ", keep it."));
        String body = given().contentType("application/json").body("{\"prompt\":\"Hi\"}")
                .when().post("/v1/invocations").then().statusCode(200).extract().asString();
        assertFalse(body.contains(KEY), body);
        assertTrue(body.contains("The key is [REDACTED], keep it."), body);
    }

    /** The fake streams text a few characters per delta, so the key arrives split over many deltas. */
    @Test
    void streamedDeltasNeverCarryTheKeyEvenSplitAcrossDeltas() {
        fake.enqueue(FakeTurn.text("The key is " + KEY + ", keep it. sk-ant-"));
        String body = sse("{\"prompt\":\"Hi\"}");
        StringBuilder text = new StringBuilder();
        for (String[] e : ConversationFlowTestSupport.sse(body)) {
            if (e[0].equals("text_delta")) {
                text.append(e[1].replaceFirst("^\\{\"text\":\"", "").replaceFirst("\"}$", ""));
            }
        }
        assertFalse(body.contains(KEY), body);
        assertFalse(body.contains("0123456789"), body);
        assertEquals("The key is [REDACTED], keep it. sk-ant-", text.toString(), "what is not secret arrives whole");
    }

    private static String sse(String request) {
        return given().contentType("application/json").accept("text/event-stream").body(request)
                .when().post("/v1/invocations").then().statusCode(200).extract().asString();
    }
}
