package dev.agentfn.conversation.messages;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.conversation.messages.wire.ContentBlock;
import dev.agentfn.conversation.messages.wire.Message;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MessageAccumulatorTest {

    private final ObjectMapper json = new ObjectMapper();
    private final List<String> relayed = new ArrayList<>();
    private final MessageAccumulator acc = new MessageAccumulator(json, relayed::add);

    @Test
    void aLongAnswerInManyDeltasIsTheirExactConcatenation() {
        start();
        event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
                + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 5000; i++) {
            String piece = "w" + i + (i % 7 == 0 ? "\n" : " ");
            expected.append(piece);
            event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                    + "\"delta\":{\"type\":\"text_delta\",\"text\":" + quote(piece) + "}}");
        }
        event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}");
        stop();

        Message m = acc.result();
        assertEquals(expected.toString(), ((ContentBlock.Text) m.content().get(0)).json().path("text").asText());
        assertEquals(5000, relayed.size());
        assertEquals("end_turn", m.stopReason());
    }

    @Test
    void thinkingTextAndSignatureKeepTheirPlaceAndBlocksStayApart() {
        start();
        event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
                + "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}");
        event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                + "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Let me \"}}");
        event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                + "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"think.\"}}");
        event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                + "\"delta\":{\"type\":\"signature_delta\",\"signature\":\"sig==\"}}");
        event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}");
        event("content_block_start", "{\"type\":\"content_block_start\",\"index\":1,"
                + "\"content_block\":{\"type\":\"text\",\"text\":\"Hel\"}}");
        event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":1,"
                + "\"delta\":{\"type\":\"text_delta\",\"text\":\"lo\"}}");
        event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}");
        stop();

        List<ContentBlock> content = acc.result().content();
        assertEquals("{\"type\":\"thinking\",\"thinking\":\"Let me think.\",\"signature\":\"sig==\"}",
                ((ContentBlock.Thinking) content.get(0)).json().toString());
        assertEquals("{\"type\":\"text\",\"text\":\"Hello\"}", ((ContentBlock.Text) content.get(1)).json().toString());
        assertEquals(List.of("lo"), relayed);
    }

    private void start() {
        event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
                + "\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,"
                + "\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}");
    }

    private void stop() {
        event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
                + "\"stop_sequence\":null},\"usage\":{\"output_tokens\":42}}");
        event("message_stop", "{\"type\":\"message_stop\"}");
    }

    private void event(String name, String data) {
        acc.apply(name, data);
    }

    private String quote(String s) {
        try {
            return json.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
