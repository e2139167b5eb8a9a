package dev.agentfn.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * {@code /q/openapi} serves the document generated at build time from the resources' annotations, in the
 * paths and formats Quarkus' OpenAPI extension served it: YAML by default, JSON by suffix, query or Accept.
 */
@QuarkusTest
class OpenApiDocumentTest {
    static final String JSON = "application/json;charset=UTF-8";
    static final String YAML = "application/yaml;charset=UTF-8";
    final ObjectMapper mapper = new ObjectMapper();

    @Test
    void describesTheInvocationAndEvaluationEndpointsAndTheProblemSchema() throws Exception {
        JsonNode doc = mapper.readTree(get("/q/openapi?format=json", null, JSON).asByteArray());
        assertEquals("agentfn", doc.at("/info/title").asText());
        JsonNode invoke = doc.at("/paths/~1v1~1invocations/post");
        assertEquals("Run an agent conversation", invoke.at("/summary").asText());
        assertEquals("#/components/schemas/InvocationRequest",
                invoke.at("/requestBody/content/application~1json/schema/$ref").asText());
        assertEquals("#/components/schemas/InvocationResponse",
                invoke.at("/responses/200/content/application~1json/schema/$ref").asText());
        assertTrue(invoke.at("/responses/200/content").has("text/event-stream"), "the SSE variant: " + invoke);
        assertEquals("#/components/schemas/Problem",
                invoke.at("/responses/400/content/application~1problem+json/schema/$ref").asText());
        assertEquals("Start an evaluation", doc.at("/paths/~1v1~1evaluations/post/summary").asText());
        assertEquals("#/components/schemas/EvaluationRequest",
                doc.at("/paths/~1v1~1evaluations/post/requestBody/content/application~1json/schema/$ref").asText());
        assertTrue(doc.at("/paths/~1v1~1evaluations~1{id}").has("get"), "GET /v1/evaluations/{id}");
        JsonNode problem = doc.at("/components/schemas/Problem/properties");
        for (String field : List.of("type", "title", "status", "detail")) {
            assertTrue(problem.has(field), "Problem." + field + " in " + problem);
        }
        assertEquals("Invocation Resource", invoke.at("/tags/0").asText());
    }

    /**
     * The body of {@code /v1/invocations} was documented as both a binary string and an InvocationRequest (no
     * instance is both), and responses lacked the required description: OpenAPI tools refused the document.
     * openapi-spec-validator checks the whole document in FuzzApiTest; these are the shapes it needs.
     */
    @Test
    void requestBodiesAreJsonSchemasAndEveryResponseIsDescribed() throws Exception {
        JsonNode doc = mapper.readTree(get("/q/openapi?format=json", null, JSON).asByteArray());
        for (String path : List.of("/v1/invocations", "/v1/evaluations")) {
            JsonNode schema = doc.at("/paths/" + path.replace("/", "~1") + "/post/requestBody/content/application~1json/schema");
            assertEquals(List.of("$ref"), iterable(schema.fieldNames()), path + ": " + schema);
        }
        JsonNode sse = doc.at("/paths/~1v1~1invocations/post/responses/200/content/text~1event-stream/schema");
        assertEquals("string", sse.path("type").asText(), sse.toString());
        doc.path("paths").forEach(item -> item.forEach(op -> op.path("responses").fields().forEachRemaining(
                r -> assertTrue(r.getValue().hasNonNull("description"), r.getKey() + " of " + op.path("summary")))));
        assertEquals("#/components/schemas/Problem", doc.at(
                "/paths/~1v1~1invocations/post/responses/default/content/application~1problem+json/schema/$ref").asText());
    }

    private static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void yamlByDefaultAndForYamlSuffixes() {
        Map<String, Object> byDefault = yaml(get("/q/openapi", null, YAML).asString());
        assertTrue(((Map<?, ?>) byDefault.get("paths")).containsKey("/v1/invocations"), byDefault.keySet().toString());
        for (String path : List.of("/q/openapi.yaml", "/q/openapi.yml", "/q/openapi?format=yaml")) {
            assertEquals(byDefault, yaml(get(path, null, YAML).asString()), path);
        }
    }

    @Test
    void jsonBySuffixQueryOrAccept() throws Exception {
        JsonNode byQuery = mapper.readTree(get("/q/openapi?format=json", null, JSON).asByteArray());
        assertEquals(byQuery, mapper.readTree(get("/q/openapi?format=JSON", null, JSON).asByteArray()));
        assertEquals(byQuery, mapper.readTree(get("/q/openapi.json", null, JSON).asByteArray()));
        assertEquals(byQuery, mapper.readTree(get("/q/openapi", "application/json", JSON).asByteArray()));
        // The same document in both formats.
        assertEquals(byQuery, mapper.valueToTree(yaml(get("/q/openapi", null, YAML).asString())));
    }

    @Test
    void optionsListsTheMethods() {
        given().when().options("/q/openapi").then().header("Allow", "GET, HEAD, OPTIONS");
        given().when().head("/q/openapi").then().statusCode(200).contentType(YAML);
    }

    static Response get(String path, String accept, String contentType) {
        var request = given();
        if (accept != null) {
            request = request.accept(accept);
        }
        return request.when().get(path).then().statusCode(200).contentType(contentType).extract().response();
    }

    /** YAML as plain data; an unquoted date-time example stays a string, as it is in the JSON. */
    static Map<String, Object> yaml(String text) {
        Resolver noTimestamps = new Resolver() {
            @Override
            public void addImplicitResolver(Tag tag, Pattern regexp, String first, int limit) {
                if (!Tag.TIMESTAMP.equals(tag)) {
                    super.addImplicitResolver(tag, regexp, first, limit);
                }
            }
        };
        DumperOptions dump = new DumperOptions();
        return new Yaml(new SafeConstructor(new LoaderOptions()), new Representer(dump), dump, new LoaderOptions(),
                noTimestamps).load(text);
    }
}
