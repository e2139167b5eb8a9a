package dev.agentfn.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.configuration.DurationConverter;
import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.runtime.configuration.MemorySizeConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one list of configured credentials, and redaction by it (whole, in JSON, and over streamed pieces). */
class SecretsTest {
    @TempDir
    Path dir;

    /** Every credential setting of {@link AgentfnConfig} ends up in the list: traces, logs and answers use it. */
    @Test
    void everyConfiguredCredentialIsListed() throws Exception {
        Path keyFile = Files.writeString(dir.resolve("keys"), "# keys\nfile-key-1234\n\n");
        Map<String, String> props = Map.ofEntries(
                Map.entry("agentfn.anthropic.api-key", "anthropic-key-1234"),
                Map.entry("agentfn.anthropic.auth-token", "anthropic-token-1234"),
                Map.entry("agentfn.mlflow.tracking-token", "mlflow-token-1234"),
                Map.entry("agentfn.mlflow.tracking-password", "mlflow-password-1234"),
                Map.entry("agentfn.mlflow.databricks-token", "dapi-token-1234"),
                Map.entry("agentfn.auth.api-keys", "api-key-1234,api-key-5678"),
                Map.entry("agentfn.auth.api-keys-file", keyFile.toString()),
                Map.entry("agentfn.tools.mcp.docs.url", "https://mcp.example.com/mcp"),
                Map.entry("agentfn.tools.mcp.docs.authorization-token", "mcp-token-1234"),
                Map.entry("agentfn.tools.http.lookup.url", "https://bot:http%40tool-pass@tools.example.com/lookup"),
                Map.entry("agentfn.mlflow.tracking-uri", "https://alice:uri-pass-1234@mlflow.example.com"),
                Map.entry("agentfn.tools.http.lookup.description", "lookup"),
                Map.entry("agentfn.evaluation.openai.api-key", "openai-key-1234"),
                Map.entry("agentfn.evaluation.function-api-key", "function-key-1234"));
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(AgentfnConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withConverter(MemorySize.class, 200, new MemorySizeConverter())
                .withSources(new PropertiesConfigSource(props, "test", 400)).build();
        List<String> listed = new Secrets(config.getConfigMapping(AgentfnConfig.class)).values();
        assertEquals(java.util.Set.of("anthropic-key-1234", "anthropic-token-1234", "mlflow-token-1234",
                "mlflow-password-1234", "dapi-token-1234", "api-key-1234", "api-key-5678", "file-key-1234",
                "mcp-token-1234", "http%40tool-pass", "http@tool-pass", "uri-pass-1234", "openai-key-1234",
                "function-key-1234"),
                java.util.Set.copyOf(listed));
    }

    @Test
    void redactsWholeValuesLongestFirstAndLeavesShortOnesAlone() {
        Secrets s = new Secrets(List.of("abc", "token-1234", "token-1234-long"));
        assertEquals("[REDACTED] and [REDACTED], abc", s.redact("token-1234-long and token-1234, abc"));
        String clean = "nothing here";
        assertSame(clean, s.redact(clean));
    }

    @Test
    void jsonIsRedactedInKeysAndValuesAndKeptWhenClean() throws Exception {
        Secrets s = new Secrets(List.of("token-1234"));
        ObjectMapper json = new ObjectMapper();
        JsonNode dirty = json.readTree("{\"a\":[\"x token-1234\",{\"token-1234\":1}],\"b\":2}");
        assertEquals("{\"a\":[\"x [REDACTED]\",{\"[REDACTED]\":1}],\"b\":2}", s.redact(dirty).toString());
        JsonNode clean = json.readTree("{\"a\":[\"x\"]}");
        assertSame(clean, s.redact(clean));
    }

    /** Whatever way the text is cut into pieces, no piece passed on holds part of a whole secret. */
    @Test
    void piecesNeverPassOnASecretSplitAcrossThem() {
        String secret = "sk-ant-test-fake-key-never-log-me-0123456789";
        Secrets s = new Secrets(List.of(secret));
        String text = "key " + secret + " and sk-ant- then s" + secret + "s";
        for (int size = 1; size <= text.length(); size++) {
            Secrets.Pieces pieces = s.pieces();
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < text.length(); i += size) {
                String passed = pieces.next(text.substring(i, Math.min(text.length(), i + size)));
                assertEquals(false, passed.contains("0123456789"), passed);
                out.append(passed);
            }
            out.append(pieces.rest());
            assertEquals("key [REDACTED] and sk-ant- then s[REDACTED]s", out.toString(), "pieces of " + size);
        }
    }
}
