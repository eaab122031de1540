package io.transferlab.report;

import io.transferlab.runtime.Display;
import tech.tablesaw.api.Table;

import java.util.ArrayList;
import java.util.List;

/** Tablesaw tables as the notebooks' HTML tables (cells as the table's own print formatters write them). */
final class Tables {
    private Tables() {
    }

    static String html(Table t) {
        List<List<String>> rows = new ArrayList<>();
        for (int r = 0; r < t.rowCount(); r++) {
            List<String> row = new ArrayList<>();
            for (String c : t.columnNames()) {
                row.add(t.getString(r, c));
            }
            rows.add(row);
        }
        return Display.table(t.columnNames(), rows);
    }
}
