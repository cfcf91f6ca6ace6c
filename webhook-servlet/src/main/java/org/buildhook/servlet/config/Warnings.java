package org.buildhook.servlet.config;

import java.util.ArrayList;
import java.util.List;
import org.buildhook.runner.rules.YamlNode;

/**
 * Warnings about one configuration file, each a whole line in the form compilers and the rules
 * file's warnings use: {@code file:line:column: warning: key: message}, or {@code file: warning:
 * message} for the file as a whole. Printed as they are: the file is named once.
 */
final class Warnings {

    private final String file;
    private final List<String> list = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    Warnings(String file) {
        this.file = file;
    }

    void add(YamlNode.Location at, String path, String message) {
        list.add(at(at) + ": warning: " + path + ": " + message);
    }

    /** {@code file:line:column} of a place in this file (the file alone when {@code at} is null). */
    String at(YamlNode.Location at) {
        return at == null ? file : file + ":" + at.line() + ":" + at.column();
    }

    /** A warning about the configuration as a whole (no position). */
    void add(String message) {
        list.add(file + ": warning: " + message);
    }

    List<String> list() {
        return List.copyOf(list);
    }

    /**
     * Something worth knowing that is not a problem (which secret file is used): {@code file: note:
     * message}, logged at INFO and printed by {@code check}, never as a warning. Warnings that are
     * always there teach operators to skip warnings.
     */
    void note(String message) {
        notes.add(file + ": note: " + message);
    }

    List<String> notes() {
        return List.copyOf(notes);
    }
}
