import type { ReactNode } from 'react';

/** A column heading: its text, or the heading and the class its cells share (`num` right-aligns figures). */
export type Column = string | { label: ReactNode; className?: string };

/** The consoles' table: scrollable wrapper, optional hidden caption, column headings; the rows are the children. */
export function DataTable({ columns, caption, className, children }: { columns: readonly Column[]; caption?: string; className?: string; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table className={className}>
        {caption ? <caption className="visually-hidden">{caption}</caption> : null}
        <thead>
          <tr>
            {columns.map((column, index) =>
              typeof column === 'string' ? (
                <th key={index} scope="col">
                  {column}
                </th>
              ) : (
                <th key={index} scope="col" className={column.className}>
                  {column.label}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
