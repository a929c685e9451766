// The SQL editor (CodeMirror 6), loaded only when the SQL studio opens: highlighting,
// completion of keywords, namespaces, tables and columns, and Ctrl/Cmd+Enter to run.
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { PostgreSQL, sql, type SQLNamespace } from '@codemirror/lang-sql';
import { bracketMatching, defaultHighlightStyle, HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { EditorState, Prec } from '@codemirror/state';
import { drawSelection, EditorView, highlightActiveLine, keymap, lineNumbers, placeholder } from '@codemirror/view';
import { tags } from '@lezer/highlight';

export interface SqlEditor {
  text(): string;
  setText(text: string): void;
  /** Selects [from, to) and scrolls there. */
  select(from: number, to: number): void;
  /** The selected text, or "" when nothing is selected. */
  selection(): string;
  focus(): void;
  destroy(): void;
}

// Colours from the page's CSS variables, so one style serves the light and dark themes.
const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: 'var(--syntax-keyword)', fontWeight: '600' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--syntax-string)' },
  { tag: [tags.number, tags.bool, tags.null], color: 'var(--syntax-number)' },
  { tag: tags.comment, color: 'var(--syntax-comment)', fontStyle: 'italic' },
  { tag: [tags.typeName, tags.standard(tags.name)], color: 'var(--syntax-type)' },
  { tag: tags.operator, color: 'var(--syntax-operator)' },
]);

const theme = EditorView.theme({
  '&': { height: '100%', fontSize: '13.5px', backgroundColor: 'var(--surface)', color: 'var(--text)' },
  '.cm-content': { fontFamily: 'var(--mono)', caretColor: 'var(--text)' },
  '.cm-gutters': { backgroundColor: 'var(--surface-2)', color: 'var(--muted)', border: 'none' },
  '.cm-activeLine': { backgroundColor: 'var(--active-line)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--active-line)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground': { backgroundColor: 'var(--selection) !important' },
  '.cm-tooltip': { backgroundColor: 'var(--surface)', border: '1px solid var(--border)', color: 'var(--text)' },
  '.cm-tooltip-autocomplete > ul > li[aria-selected]': { backgroundColor: 'var(--accent)', color: 'var(--accent-text)' },
});

/**
 * The editor lives in a shadow root of `host`: CodeMirror's styles then go into a
 * constructed style sheet of that root instead of a <style> element, which the page's
 * Content-Security-Policy (style-src 'self') would refuse.
 */
export function createSqlEditor(host: HTMLElement, options: {
  doc: string;
  schema: SQLNamespace;
  onRun: () => void;
  onChange: (text: string) => void;
}): SqlEditor {
  const run = () => { options.onRun(); return true; };
  const root = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
  const parent = document.createElement('div');
  parent.style.height = '100%';
  root.replaceChildren(parent);
  const view = new EditorView({
    root,
    parent,
    state: EditorState.create({
      doc: options.doc,
      extensions: [
        lineNumbers(),
        history(),
        drawSelection(),
        highlightActiveLine(),
        bracketMatching(),
        closeBrackets(),
        highlightSelectionMatches(),
        autocompletion({ activateOnTyping: true }),
        syntaxHighlighting(highlight),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        sql({ dialect: PostgreSQL, schema: options.schema, upperCaseKeywords: true }),
        placeholder('SELECT * FROM system.tables'),
        Prec.highest(keymap.of([{ key: 'Mod-Enter', run }])),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, ...completionKeymap, indentWithTab]),
        EditorView.updateListener.of((u) => u.docChanged && options.onChange(u.state.doc.toString())),
        EditorView.contentAttributes.of({ 'aria-label': 'SQL editor' }),
        theme,
      ],
    }),
  });
  return {
    text: () => view.state.doc.toString(),
    setText: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    select: (from, to) => {
      const max = view.state.doc.length;
      view.dispatch({ selection: { anchor: Math.min(from, max), head: Math.min(to, max) }, scrollIntoView: true });
      view.focus();
    },
    selection: () => {
      const r = view.state.selection.main;
      return view.state.sliceDoc(r.from, r.to);
    },
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
}
