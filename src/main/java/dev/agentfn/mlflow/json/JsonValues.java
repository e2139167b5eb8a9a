package dev.agentfn.mlflow.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.Map;

/**
 * Conversions between the JSON-able Java values on spans and Jackson trees.
 *
 * <p>Only the tree model is used (no data binding of our own classes), so nothing here needs
 * reflection registration in a native image.
 */
public final class JsonValues {
    /** Tree-only mapper; never used to bind POJOs. */
    public static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** Mirrors Python's {@code json.loads}: NaN/Infinity allowed, trailing garbage rejected. */
    private static final ObjectReader PYTHON_LIKE_READER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build()
            .reader();

    private JsonValues() {
    }

    /** Converts String/Number/Boolean/List/Map/array/JsonNode (nested) into a Jackson tree. */
    public static JsonNode toNode(Object value) {
        if (value == null) {
            return NODES.nullNode();
        }
        if (value instanceof JsonNode node) {
            return node;
        }
        if (value instanceof CharSequence s) {
            return NODES.textNode(s.toString());
        }
        if (value instanceof Boolean b) {
            return NODES.booleanNode(b);
        }
        if (value instanceof Number n) {
            return numberNode(n);
        }
        if (value instanceof Map<?, ?> map) {
            ObjectNode obj = NODES.objectNode();
            map.forEach((k, v) -> obj.set(String.valueOf(k), toNode(v)));
            return obj;
        }
        if (value instanceof Collection<?> list) {
            ArrayNode arr = NODES.arrayNode();
            list.forEach(v -> arr.add(toNode(v)));
            return arr;
        }
        if (value instanceof Object[] array) {
            ArrayNode arr = NODES.arrayNode();
            for (Object v : array) {
                arr.add(toNode(v));
            }
            return arr;
        }
        if (value instanceof byte[] bytes) {
            return NODES.textNode(Base64.getEncoder().encodeToString(bytes));
        }
        return NODES.textNode(value.toString());
    }

    private static JsonNode numberNode(Number n) {
        if (n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte) {
            return NODES.numberNode(n.longValue());
        }
        if (n instanceof BigInteger big) {
            return NODES.numberNode(big);
        }
        if (n instanceof BigDecimal dec) {
            return NODES.numberNode(dec);
        }
        return NODES.numberNode(n.doubleValue());
    }

    /** Compact JSON text of a tree, like Python's {@code json.dumps} modulo whitespace. */
    public static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize JSON tree", e);
        }
    }

    /** JSON text of any JSON-able Java value. */
    public static String writeValue(Object value) {
        return write(toNode(value));
    }

    public static JsonNode parse(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("invalid JSON", e);
        }
    }

    public static JsonNode parse(byte[] json) {
        try {
            return MAPPER.readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("invalid JSON", e);
        }
    }

    /**
     * True when Python's {@code json.loads(s)} would return a str, dict or list. MLflow's
     * {@code sanitize_attributes} strips one JSON layer from exactly those strings, so they
     * must be sent JSON-encoded to survive unchanged.
     */
    public static boolean parsesAsJsonContainerOrString(String s) {
        String t = s.strip();
        if (t.isEmpty()) {
            return false;
        }
        char c = t.charAt(0);
        if (c != '{' && c != '[' && c != '"') {
            return false;
        }
        try (JsonParser p = PYTHON_LIKE_READER.createParser(t)) {
            JsonNode node = PYTHON_LIKE_READER.readTree(p);
            return node != null && (node.isObject() || node.isArray() || node.isTextual());
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    /** Lowercase hex to raw bytes, checking the expected length. */
    public static byte[] hexToBytes(String hex, int expectedBytes, String what) {
        if (hex == null || hex.length() != expectedBytes * 2) {
            throw new IllegalArgumentException(what + " must be " + expectedBytes * 2 + " hex characters: " + hex);
        }
        try {
            return HexFormat.of().parseHex(hex);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " is not hex: " + hex, e);
        }
    }
}
