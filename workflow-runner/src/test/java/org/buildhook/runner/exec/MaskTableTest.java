package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The jobs with the same secret values share one table of what their logs mask (mask39), and only the last few are kept. */
class MaskTableTest {

    @Test
    void theSameValuesGetTheTableMadeForThemAndOnlyTheLastSetsAreKept() {
        MaskTable first = MaskTable.of(Set.of("table-value-1", "table-value-2"));

        assertThat(MaskTable.of(new HashSet<>(Set.of("table-value-2", "table-value-1")))).isSameAs(first);
        assertThat(MaskTable.of(Set.of("table-value-1"))).isNotSameAs(first);
        for (int i = 0; i < MaskTable.KEPT; i++) {
            MaskTable.of(Set.of("other-value-" + i));
        }
        assertThat(MaskTable.of(Set.of("table-value-1", "table-value-2"))).as("no longer kept").isNotSameAs(first);
    }

    @Test
    void theLongestMaskedStringIsAnEncodedForm() {
        // bash's $'…' in the C locale (\303\244 for each ä, 8 characters) is longer than its percent-encoding (%C3%A4,
        // 6) and than the value itself: the log may hold back that much.
        assertThat(MaskTable.of(Set.of("\u00e4\u00e4\u00e4\u00e4")).longest).isEqualTo(32);
    }
}
