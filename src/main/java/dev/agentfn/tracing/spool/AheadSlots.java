package dev.agentfn.tracing.spool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;
import org.jboss.logging.Logger;

/**
 * Copies spooled ahead of their export ({@code turn-end-wait=spool}) in files that are written over again instead of
 * created. Forcing a new file to disk takes a journal commit for the file and another for its rename; forcing a write
 * over blocks a file already holds (fdatasync) takes neither, only the data. These copies are the answer's wait, and
 * most leave again a moment later, when MLflow confirms their export.
 *
 * <p>Each process has a directory of its own, {@code .ahead-<uuid>} in the spool's directory, with a file lock held for
 * as long as the process lives and one file per slot. A slot holds one record: a header (magic, lengths, a CRC-32C of
 * the rest), the copy's spool file name and the spool file's bytes. A record whose check fails is a write a crash cut
 * short, before its answer was let go, and is ignored. Freeing a slot overwrites its magic without forcing it: a copy
 * MLflow confirmed may thus come back after a crash, and is then sent again (MLflow merges a trace written twice).
 *
 * <p>A directory whose lock is free belongs to a process that ended without handing its copies over (killed, or its
 * machine failed); whoever opens the spool, or lists it, {@link #abandoned finds it} and moves its records into the
 * spool as ordinary files.
 */
final class AheadSlots {
    private static final Logger LOG = Logger.getLogger(AheadSlots.class);
    static final String PREFIX = ".ahead-";
    /** A directory being set up; one a crash left behind holds no record, and goes after {@link #SETUP_LEFTOVER}. */
    static final String SETUP = ".setup-ahead-";
    private static final Duration SETUP_LEFTOVER = Duration.ofMinutes(10);
    private static final String LOCK = "lock";
    private static final String SLOT = "slot-";
    private static final int MAGIC = 0x41464131; // "AFA1"
    private static final int HEADER = 16;
    /** A new slot's size: records up to it are written over blocks the file already has. */
    static final int SLOT_BYTES = 256 << 10;
    /** Slots per process at most; a copy that finds none free is spooled as an ordinary file. */
    static final int MAX_SLOTS = 256;

    /** One record read back from a slot. */
    record Record(String name, byte[] bytes) {
    }

    private static final class Slot {
        final FileChannel channel;
        long size;
        volatile byte[] bytes; // the copy it holds, while it holds one

        Slot(FileChannel channel, long size) {
            this.channel = channel;
            this.size = size;
        }
    }

    private final Path dir;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final ConcurrentLinkedQueue<Slot> free = new ConcurrentLinkedQueue<>();
    private final Map<String, Slot> held = new ConcurrentHashMap<>();
    private final AtomicInteger slots = new AtomicInteger();

    private AheadSlots(Path dir, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * A directory of this process's own in {@code spoolDir}: set up and locked under a temporary name, then renamed, so
     * another process never finds it unlocked.
     */
    static AheadSlots open(Path spoolDir) throws IOException {
        String id = UUID.randomUUID().toString();
        Path setup = Files.createDirectory(spoolDir.resolve(SETUP + id));
        FileChannel ch = FileChannel.open(setup.resolve(LOCK), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            FileLock lock = ch.lock();
            Path dir = Files.move(setup, spoolDir.resolve(PREFIX + id));
            syncDirectory(spoolDir);
            return new AheadSlots(dir, ch, lock);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * As {@link #open}; where the file system refuses a directory or a lock of this process's own (some network file
     * systems lock nothing), no slots at all: every copy is then spooled as a file, as before slots existed.
     */
    static AheadSlots openOrNone(Path spoolDir) {
        try {
            return open(spoolDir);
        } catch (IOException | RuntimeException e) {
            LOG.warnf("No spool slots in %s (%s): a turn's last answer waits for a spool file instead", spoolDir,
                    e.getMessage());
            return new AheadSlots(null, null, null);
        }
    }

    /** This process's slot directory; null when it has none ({@link #openOrNone}). */
    Path directory() {
        return dir;
    }

    /**
     * Stores the copy durably under {@code name}; false when every slot is taken (the caller spools it as a file).
     */
    boolean write(String name, byte[] bytes) throws IOException {
        if (dir == null) {
            return false;
        }
        Slot slot = free.poll();
        boolean created = false;
        if (slot == null) {
            if (slots.incrementAndGet() > MAX_SLOTS) {
                slots.decrementAndGet();
                return false;
            }
            try {
                slot = newSlot();
            } catch (IOException | RuntimeException e) {
                slots.decrementAndGet(); // no slot came of it: it must not count against the bound
                throw e;
            }
            created = true;
        }
        try {
            ByteBuffer record = record(name, bytes);
            boolean grows = record.remaining() > slot.size;
            writeFully(slot.channel, record, 0);
            slot.size = Math.max(slot.size, record.limit());
            slot.channel.force(created || grows); // over its own blocks: data only, no journal commit
            if (created) {
                syncDirectory(dir);
            }
        } catch (IOException | RuntimeException e) {
            free.add(slot);
            throw e;
        }
        slot.bytes = bytes;
        held.put(name, slot);
        return true;
    }

    private Slot newSlot() throws IOException {
        Path p = dir.resolve(SLOT + UUID.randomUUID());
        FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            writeFully(ch, ByteBuffer.allocate(SLOT_BYTES), 0); // real blocks, so later records only overwrite them
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return new Slot(ch, SLOT_BYTES);
    }

    /** The names of the copies held here whose names start with {@code prefix}. */
    List<String> namesStartingWith(String prefix) {
        List<String> names = new ArrayList<>();
        for (String name : held.keySet()) {
            if (name.startsWith(prefix)) {
                names.add(name);
            }
        }
        return names;
    }

    /** The bytes of a held copy; null when none by that name is held. */
    byte[] bytesOf(String name) {
        Slot slot = held.get(name);
        return slot == null ? null : slot.bytes;
    }

    /** The names of every copy held here. */
    List<String> names() {
        return new ArrayList<>(held.keySet());
    }

    /**
     * Frees the copy's slot: its magic is overwritten, not forced (see the class comment). Unknown names are
     * ignored.
     */
    void free(String name) {
        Slot slot = held.remove(name);
        if (slot == null) {
            return;
        }
        slot.bytes = null;
        try {
            writeFully(slot.channel, ByteBuffer.allocate(4), 0);
        } catch (IOException e) {
            LOG.debugf("Could not clear a spool slot: %s", e.getMessage());
        }
        free.add(slot);
    }

    /**
     * Closes the slots and removes the directory, after the caller moved every held copy into the spool; a copy still
     * held keeps the directory, to be found by the next process.
     */
    void close() {
        if (dir == null) {
            return;
        }
        boolean empty = held.isEmpty();
        for (Slot s : free) {
            closeQuietly(s.channel);
        }
        held.values().forEach(s -> closeQuietly(s.channel));
        if (empty) {
            deleteAll(dir);
        }
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        closeQuietly(lockChannel);
    }

    /** Removes a directory a crash left half set up (it never held a record), unless it may still be in use. */
    static void removeSetupLeftover(Path d) {
        try {
            Instant changed = Files.getLastModifiedTime(d).toInstant();
            if (changed.plus(SETUP_LEFTOVER).isBefore(Instant.now())) {
                deleteAll(d);
            }
        } catch (IOException e) {
            LOG.debugf("Could not look at %s: %s", d, e.getMessage());
        }
    }

    /** Gives the lock up without handing anything over: what a killed process leaves (tests). */
    void abandonForTest() {
        if (dir == null) {
            return;
        }
        held.values().forEach(s -> closeQuietly(s.channel));
        free.forEach(s -> closeQuietly(s.channel));
        closeQuietly(lockChannel);
    }

    /**
     * The records in the directories of processes that are gone (their lock is free), each directory locked by the
     * caller until {@code store} took its records; then it is removed. {@code store} must store a record durably
     * before returning (it may be called again for the same record if this process ends first). Directories of live
     * processes, and {@code own}, are left alone.
     */
    static void abandoned(Path spoolDir, Path own, RecordSink store) {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(spoolDir,
                p -> p.getFileName().toString().startsWith(PREFIX) && !p.equals(own) && Files.isDirectory(p))) {
            // (own is null without slots: every directory found is then another process's)
            for (Path d : dirs) {
                takeOver(d, store);
            }
        } catch (IOException e) {
            LOG.warnf("Could not look for spool slots other processes left in %s: %s", spoolDir, e.getMessage());
        }
    }

    /** Stores one record durably. */
    interface RecordSink {
        void store(Record r) throws IOException;
    }

    private static void takeOver(Path d, RecordSink store) {
        try (FileChannel ch = FileChannel.open(d.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                return; // this JVM holds it: a live spool of this process
            }
            if (lock == null) {
                return; // its process lives
            }
            int moved = 0;
            for (Record r : records(d)) {
                store.store(r);
                moved++;
            }
            deleteAll(d);
            if (moved > 0) {
                LOG.warnf("Moved %d trace(s) that an ended process had spooled ahead of their export (%s) into the "
                        + "spool; they are sent again", moved, d.getFileName());
            }
        } catch (IOException e) {
            LOG.warnf("Could not take over the spool slots in %s: %s; left for the next look", d, e.getMessage());
        }
    }

    /** The valid records in a slot directory; torn ones (a write cut short) are skipped. */
    static List<Record> records(Path d) throws IOException {
        List<Record> out = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(d, p -> p.getFileName().toString().startsWith(SLOT))) {
            for (Path f : files) {
                byte[] slot = Files.readAllBytes(f);
                Record r = read(slot);
                if (r != null) {
                    out.add(r);
                } else if (holdsMagic(slot)) {
                    LOG.warnf("Spool slot %s holds a write a crash cut short (its answer was never sent); skipped", f);
                }
            }
        }
        return out;
    }

    /** Whether a slot starts as a record does (a freed or never written one does not). */
    private static boolean holdsMagic(byte[] slot) {
        return slot.length >= 4 && ByteBuffer.wrap(slot).getInt() == MAGIC;
    }

    private static ByteBuffer record(String name, byte[] bytes) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(HEADER + n.length + bytes.length);
        b.putInt(MAGIC).putInt(n.length).putInt(bytes.length).putInt(crc(n, bytes)).put(n).put(bytes);
        return b.flip();
    }

    /** A slot's record, or null when it holds none (freed, never written) or a torn one. */
    static Record read(byte[] slot) {
        if (slot.length < HEADER || !holdsMagic(slot)) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(slot, 4, slot.length - 4);
        int nameLength = b.getInt();
        int length = b.getInt();
        int crc = b.getInt();
        if (nameLength <= 0 || length < 0 || (long) HEADER + nameLength + length > slot.length) {
            return null;
        }
        byte[] n = new byte[nameLength];
        byte[] bytes = new byte[length];
        b.get(n).get(bytes);
        return crc(n, bytes) == crc ? new Record(new String(n, StandardCharsets.UTF_8), bytes) : null;
    }

    private static int crc(byte[] name, byte[] bytes) {
        CRC32C c = new CRC32C();
        c.update(name);
        c.update(bytes);
        return (int) c.getValue();
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long pos = position;
        while (b.hasRemaining()) {
            pos += ch.write(b, pos);
        }
    }

    private static void syncDirectory(Path d) {
        try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // not every file system lets a directory be opened; the files' own data is forced
        }
    }

    private static void deleteAll(Path d) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(d)) {
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(d);
        } catch (IOException e) {
            LOG.debugf("Could not remove %s: %s", d, e.getMessage());
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing left to do with it
        }
    }
}
