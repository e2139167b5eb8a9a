package dev.agentfn.standin;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A fresh fake on a free port for every test. */
abstract class FakeServerTestBase {
    protected FakeAnthropicServer fake;

    @BeforeEach
    void startFake() {
        fake = new FakeAnthropicServer(16).start(0);
    }

    @AfterEach
    void stopFake() {
        fake.close();
    }
}
