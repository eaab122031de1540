package io.transferlab.report;

import io.transferlab.runtime.Display;
import tech.tablesaw.api.Table;


/** Tablesaw tables as the notebooks' HTML tables (cells as the table's own print formatters write them). */
final class Tables {
    private Tables() {
    }

    static String html(Table t) {
        return Display.tableHtml(t);
    }
}
