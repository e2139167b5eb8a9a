package dev.agentfn.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.testing.FakeAnthropicResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every bad request gets a 4xx problem that says what is wrong, and Anthropic is never called. */
@QuarkusTest
class BadInputTest {
    FakeAnthropicServer fake = FakeAnthropicResource.fake();

    @BeforeEach
    void reset() {
        fake.reset();
    }

    @AfterEach
    void noUpstreamCall() {
        assertEquals(0, fake.messageRequests().size(), "no request may reach Anthropic");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "{\"prompt\":|malformed JSON at line 1",
        "[1,2]|must be a JSON object",
        "{\"prompt\":\"hi\",\"temperature\":1,\"foo\":2}|unknown fields [foo, temperature]",
        "{\"prompt\":42}|field 'prompt' has the wrong type",
        "{\"prompt\":\"hi\",\"max_tokens\":\"many\"}|field 'max_tokens' has the wrong type",
        "{\"prompt\":\"hi\",\"max_tokens\":1.5}|field 'max_tokens' has the wrong type",
        "{\"prompt\":\"hi\",\"tools\":\"weather\"}|field 'tools' has the wrong type",
        "{\"prompt\":\"   \"}|\"prompt\" is empty",
        "{}|send \"prompt\" (a string) or \"messages\"",
        "{\"prompt\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"b\"}]}|not both",
        "{\"messages\":[]}|\"messages\" is empty",
        "{\"messages\":[{\"role\":\"system\",\"content\":\"x\"}]}|messages[0].role must be",
        "{\"messages\":[{\"role\":\"assistant\",\"content\":\"x\"},{\"role\":\"user\",\"content\":\"y\"}]}|messages[0] must be a user turn",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"user\",\"content\":\"y\"}]}|must alternate",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\"}]}|last message must be a user turn",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"no type\"}]}]}|must be a block with a",
        "{\"prompt\":\"hi\",\"tools\":[\"weather\",\"rm_rf\"]}|unknown tools [rm_rf]",
        "{\"prompt\":\"hi\",\"max_turns\":0}|max_turns\" must be between 1 and",
        "{\"prompt\":\"hi\",\"max_tokens\":999999}|max_tokens\" must be between 1 and",
        "{\"prompt\":\"hi\",\"engine\":\"gpt\"}|engine 'gpt' is not available",
        "{\"engine\":\"claude-code\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"},{\"role\":\"user\",\"content\":\"c\"}]}|engine claude-code takes one user turn",
        "{\"prompt\":\"hi\",\"engine\":\"claude-code\",\"tools\":[\"Read\",\"rm_rf\"]}|tools [rm_rf] are not available to engine claude-code; allowed: [",
        "{\"prompt\":\"hi\",\"metadata\":{\"mlflow.user\":\"x\"}}|must not be blank or start with \"mlflow.\"",
        "{\"prompt\":\"hi\",\"system\":[{\"type\":\"image\"}]}|\"system\" must be a string",
    })
    void badBodiesAre400(String body, String expected) {
        given().contentType("application/json").body(body).when().post("/v1/invocations")
                .then().statusCode(400).contentType(Problem.MEDIA_TYPE)
                .body("status", equalTo(400)).body("title", equalTo("Invalid request"))
                .body("detail", containsString(expected));
    }

    @Test
    void emptyBodyIs400() {
        given().contentType("application/json").when().post("/v1/invocations")
                .then().statusCode(400).contentType(Problem.MEDIA_TYPE).body("detail", containsString("empty"));
    }

    @Test
    void wrongContentTypeIs415() {
        given().contentType("text/plain").body("prompt=hi").when().post("/v1/invocations")
                .then().statusCode(415).contentType(Problem.MEDIA_TYPE).body("detail", containsString("application/json"));
    }

    @Test
    void oversizedBodyIs413() {
        String big = "x".repeat(1024 * 1024 + 10);
        given().contentType("application/json").body("{\"prompt\":\"" + big + "\"}").when().post("/v1/invocations")
                .then().statusCode(413).contentType(Problem.MEDIA_TYPE).body("detail", containsString("max-body-size"));
    }

    @Test
    void unknownPathIs404Problem() {
        given().when().get("/v1/nothing").then().statusCode(404).contentType(Problem.MEDIA_TYPE);
    }
}
