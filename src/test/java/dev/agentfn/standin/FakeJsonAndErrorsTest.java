package dev.agentfn.standin;

import static dev.agentfn.standin.FakeHttp.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Non-streaming Message shape (spec §1.2), validation and error responses (spec §1.5). */
class FakeJsonAndErrorsTest extends FakeServerTestBase {
    @Test
    void jsonModeReturnsFullMessage() {
        fake.enqueue(FakeTurn.toolUse("Let me check.", new ToolCall("toolu_9", "lookup", Map.of("q", "x"))));
        String body = FakeHttp.body(false, "Hello");
        HttpResponse<String> response = FakeHttp.messages(fake, body);

        assertEquals(200, response.statusCode());
        assertEquals("application/json", response.headers().firstValue("content-type").orElseThrow());
        ObjectNode message = (ObjectNode) json(response.body());
        assertTrue(message.remove("id").asText().startsWith("msg_"));
        int out = ("Let me check.".length() + "{\"q\":\"x\"}".length()) / 4;
        assertEquals(json("{\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-test-1\",\"content\":["
                + "{\"type\":\"text\",\"text\":\"Let me check.\"},"
                + "{\"type\":\"tool_use\",\"id\":\"toolu_9\",\"name\":\"lookup\",\"input\":{\"q\":\"x\"}}],"
                + "\"stop_reason\":\"tool_use\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":" + body.length() / 4
                + ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":" + out
                + ",\"service_tier\":\"standard\"},\"container\":null,\"stop_details\":null}"), message);
    }

    @Test
    void stopSequenceIsReported() {
        fake.enqueue(FakeTurn.text("abc").withStopSequence("END"));
        JsonNode message = json(FakeHttp.messages(fake, FakeHttp.body(false, "Q")).body());
        assertEquals("stop_sequence", message.get("stop_reason").asText());
        assertEquals("END", message.get("stop_sequence").asText());
    }

    @ParameterizedTest
    @CsvSource({"400,invalid_request_error", "401,authentication_error", "403,permission_error",
        "404,not_found_error", "413,request_too_large", "429,rate_limit_error", "500,api_error",
        "504,timeout_error", "529,overloaded_error"})
    void scriptedErrorHasStatusBodyAndRequestId(int status, String type) {
        fake.enqueue(FakeTurn.error(status));
        HttpResponse<String> response = FakeHttp.messages(fake, FakeHttp.body(true, "Q"));

        assertEquals(status, response.statusCode());
        assertEquals("application/json", response.headers().firstValue("content-type").orElseThrow());
        String requestId = response.headers().firstValue("request-id").orElseThrow();
        assertTrue(requestId.startsWith("req_"));
        JsonNode error = json(response.body());
        assertEquals("error", error.get("type").asText());
        assertEquals(type, error.at("/error/type").asText());
        assertTrue(error.at("/error/message").isTextual());
        assertEquals(requestId, error.get("request_id").asText());
    }

    @Test
    void scriptedErrorCarriesRetryHeaders() {
        fake.enqueue(FakeTurn.error(429, "rate_limit_error", "slow down",
                Map.of("retry-after", "2", "retry-after-ms", "1500", "x-should-retry", "true")));
        HttpResponse<String> response = FakeHttp.messages(fake, FakeHttp.body(false, "Q"));

        assertEquals(429, response.statusCode());
        assertEquals("2", response.headers().firstValue("retry-after").orElseThrow());
        assertEquals("1500", response.headers().firstValue("retry-after-ms").orElseThrow());
        assertEquals("true", response.headers().firstValue("x-should-retry").orElseThrow());
        assertEquals("slow down", json(response.body()).at("/error/message").asText());
    }

    @Test
    void missingApiKeyIs401AndConsumesNoTurn() {
        fake.enqueue(FakeTurn.text("kept"));
        HttpResponse<String> response = FakeHttp.send(FakeHttp.messagesRequest(fake, "/v1/messages",
                FakeHttp.body(false, "Q")).header("anthropic-version", "2023-06-01").build());

        assertEquals(401, response.statusCode());
        assertEquals("authentication_error", json(response.body()).at("/error/type").asText());
        assertTrue(response.headers().firstValue("request-id").isPresent());
        assertEquals(1, fake.pendingTurns());
    }

    @Test
    void bearerTokenAndBetaQueryAreAccepted() {
        HttpResponse<String> response = FakeHttp.send(FakeHttp.messagesRequest(fake, "/v1/messages?beta=true",
                FakeHttp.body(false, "Q")).header("authorization", "Bearer tok")
                .header("anthropic-version", "2023-06-01").build());

        assertEquals(200, response.statusCode());
        assertEquals("/v1/messages?beta=true", fake.requests().get(0).path());
    }

    @Test
    void missingVersionHeaderIs400() {
        HttpResponse<String> response = FakeHttp.send(FakeHttp.messagesRequest(fake, "/v1/messages",
                FakeHttp.body(false, "Q")).header("x-api-key", "k").build());
        assertEquals(400, response.statusCode());
        assertEquals("invalid_request_error", json(response.body()).at("/error/type").asText());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}|model",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}|max_tokens",
        "{\"model\":\"m\",\"max_tokens\":5}|messages",
        "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[]}|messages",
        "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}|role",
        "not json|parsing"})
    void invalidBodiesAre400(String body, String mentioned) {
        HttpResponse<String> response = FakeHttp.messages(fake, body);
        assertEquals(400, response.statusCode());
        JsonNode error = json(response.body());
        assertEquals("invalid_request_error", error.at("/error/type").asText());
        assertTrue(error.at("/error/message").asText().contains(mentioned), error.toString());
    }

    @Test
    void systemRoleInsideMessagesIsAccepted() {
        String body = "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
                + "{\"role\":\"system\",\"content\":\"note\"},{\"role\":\"user\",\"content\":\"b\"}]}";
        HttpResponse<String> response = FakeHttp.messages(fake, body);
        assertEquals(200, response.statusCode());
        assertEquals("[local stand-in, not Claude] b", json(response.body()).at("/content/0/text").asText());
    }

    @Test
    void helloAnswers200ForHeadAndGet() {
        HttpResponse<String> head = FakeHttp.send(HttpRequest.newBuilder(URI.create(fake.baseUrl() + "/api/hello"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
        assertEquals(200, head.statusCode());
        assertTrue(head.headers().firstValue("request-id").isPresent());
        assertEquals(200, FakeHttp.get(fake, "/api/hello").statusCode());
    }

    @Test
    void unknownPathIs404WithErrorBody() {
        HttpResponse<String> response = FakeHttp.get(fake, "/v1/models");
        assertEquals(404, response.statusCode());
        assertEquals("not_found_error", json(response.body()).at("/error/type").asText());
        assertEquals(response.headers().firstValue("request-id").orElseThrow(),
                json(response.body()).get("request_id").asText());
    }
}
