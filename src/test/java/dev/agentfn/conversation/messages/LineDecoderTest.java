package dev.agentfn.conversation.messages;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineDecoderTest {

    static List<String> lines(String... chunks) {
        List<String> out = new ArrayList<>();
        LineDecoder d = new LineDecoder(out::add);
        for (String c : chunks) {
            d.feed(c.getBytes(StandardCharsets.UTF_8));
        }
        d.end();
        return out;
    }

    @Test
    void lfCrAndCrlfEndLinesAndBlankLinesSurvive() {
        assertEquals(List.of("event: a", "data: 1", "", "x", "y", "", "z"),
                lines("event: a\ndata: 1\n\nx\ry\r\n\r\nz"));
    }

    @Test
    void crlfSplitAcrossChunksIsOneTerminator() {
        assertEquals(List.of("a", "", "b"), lines("a\r", "\n\r", "\nb"));
    }

    @Test
    void lineAndMultiByteCharacterSplitAcrossChunks() {
        byte[] all = "data: é✓😀\n".getBytes(StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        LineDecoder d = new LineDecoder(out::add);
        for (byte b : all) {
            d.feed(new byte[] {b});
        }
        assertEquals(List.of("data: é✓😀"), out);
    }

    @Test
    void lastLineWithoutTerminatorIsDeliveredAtEnd() {
        assertEquals(List.of("a", "tail"), lines("a\nta", "il"));
    }

    @Test
    void longLinesGrowTheBuffer() {
        String big = "x".repeat(5000);
        assertEquals(List.of(big, big), lines(big.substring(0, 100), big.substring(100) + "\n" + big.substring(0, 4000),
                big.substring(4000) + "\n"));
    }
}
