/**
 * Agoria TRE's "Request export…" in JupyterLab: on files in the file browser, on notebook cells,
 * and on a whole notebook (command palette, File menu, notebook toolbar), plus the "Exports"
 * side panel. Everything goes through the workspace server's own API
 * (``<base url>/agoria-tre/export/``), with the page's authentication: the browser never holds
 * an airlock token.
 */

import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  showErrorMessage
} from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import { IDefaultFileBrowser, IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { INotebookModel, INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { LabIcon, ToolbarButton } from '@jupyterlab/ui-components';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

import { ExportApi, Send } from './api';
import { ExportForm } from './dialog';
import { cellsSource, describeError, sourcesFromSelection } from './model';
import { ExportsPanel } from './panel';
import type { ISource } from './types';

export namespace CommandIDs {
  export const exportFiles = 'agoria-tre:export-files';
  export const exportCells = 'agoria-tre:export-cells';
  export const exportNotebook = 'agoria-tre:export-notebook';
}

const LABEL = 'Request export…';
const CATEGORY = 'Agoria TRE';

export const exportIcon = new LabIcon({
  name: 'agoria-tre:export',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<g class="jp-icon3" fill="#616161">' +
    '<path d="M12 3 6 9l1.4 1.4 3.6-3.6V16h2V6.8l3.6 3.6L18 9z"/>' +
    '<path d="M4 14h2v4h12v-4h2v6H4z"/>' +
    '</g></svg>'
});

/** The API client, sending with ``ServerConnection.makeRequest`` (the page's auth and XSRF). */
function serverApi(): ExportApi {
  const settings = ServerConnection.makeSettings();
  const send: Send = (path, init) =>
    ServerConnection.makeRequest(
      URLExt.join(settings.baseUrl, 'agoria-tre/export', path),
      init,
      settings
    );
  return new ExportApi(send);
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: '@agoria-tre/export:plugin',
  description:
    'Request the export of files, notebooks and cells through the Agoria TRE airlock.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [
    ICommandPalette,
    IMainMenu,
    IDefaultFileBrowser,
    IFileBrowserFactory,
    ILayoutRestorer
  ],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker,
    palette: ICommandPalette | null,
    mainMenu: IMainMenu | null,
    defaultBrowser: IDefaultFileBrowser | null,
    browsers: IFileBrowserFactory | null,
    restorer: ILayoutRestorer | null
  ) => {
    const api = serverApi();
    const { commands, shell } = app;

    const panel = new ExportsPanel(api, exportIcon);
    shell.add(panel, 'left', { rank: 150 }); // after the file browser (100)
    if (restorer) {
      restorer.add(panel, panel.id);
    }

    let forms = 0;
    const openForm = (sources: ISource[]): void => {
      const form = new ExportForm({
        api,
        sources,
        onSubmitted: () => void panel.refresh(),
        onClose: () => widget.dispose()
      });
      const widget = new MainAreaWidget({ content: form });
      forms += 1;
      widget.id = `agoria-export-form-${forms}`;
      widget.title.label = 'Request export';
      widget.title.caption = sources.map(source => source.path).join(', ');
      widget.title.icon = exportIcon;
      widget.title.closable = true;
      shell.add(widget, 'main', { mode: 'split-right' });
      shell.activateById(widget.id);
      void form.check();
    };

    const fail = (error: unknown): void => {
      void showErrorMessage('Request export', describeError(error));
    };

    /** Saves the notebook (what is sent is what is on disk), then opens the form. */
    const exportFromNotebook = async (
      notebook: NotebookPanel,
      cells: boolean
    ): Promise<void> => {
      await notebook.context.ready;
      const content = notebook.content;
      const source: ISource = cells
        ? cellsSource(
            notebook.context.path,
            content.widgets.map(cell => ({
              id: cell.model.id,
              chosen: content.isSelectedOrActive(cell)
            }))
          )
        : { path: notebook.context.path };
      await notebook.context.save();
      openForm([source]);
    };

    const currentBrowser = () => browsers?.tracker.currentWidget ?? defaultBrowser;

    commands.addCommand(CommandIDs.exportFiles, {
      label: LABEL,
      caption: 'Check the selected files here and submit them to the airlock for review',
      icon: exportIcon,
      isEnabled: () => currentBrowser() !== null,
      execute: () => {
        const browser = currentBrowser();
        const sources = browser ? sourcesFromSelection(browser.selectedItems()) : [];
        if (sources.length === 0) {
          fail('Select the files to export in the file browser (folders are not sent).');
          return;
        }
        openForm(sources);
      }
    });

    commands.addCommand(CommandIDs.exportCells, {
      label: LABEL,
      caption: 'Check the selected cells here and submit them to the airlock for review',
      icon: exportIcon,
      isEnabled: () => notebooks.currentWidget !== null,
      execute: async () => {
        const notebook = notebooks.currentWidget;
        if (notebook) {
          await exportFromNotebook(notebook, true).catch(fail);
        }
      }
    });

    commands.addCommand(CommandIDs.exportNotebook, {
      label: LABEL,
      caption: 'Check this notebook here and submit it to the airlock for review',
      icon: exportIcon,
      isEnabled: () => notebooks.currentWidget !== null,
      execute: async () => {
        const notebook = notebooks.currentWidget;
        if (notebook) {
          await exportFromNotebook(notebook, false).catch(fail);
        }
      }
    });

    app.contextMenu.addItem({
      command: CommandIDs.exportFiles,
      selector: '.jp-DirListing-item[data-isdir="false"]',
      rank: 60
    });
    app.contextMenu.addItem({
      command: CommandIDs.exportCells,
      selector: '.jp-Notebook .jp-Cell',
      rank: 60
    });
    palette?.addItem({ command: CommandIDs.exportNotebook, category: CATEGORY });
    mainMenu?.fileMenu.addGroup([{ command: CommandIDs.exportNotebook }], 60);

    // The notebook toolbar's button exports the notebook it belongs to.
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew(
        notebook: NotebookPanel,
        _context: DocumentRegistry.IContext<INotebookModel>
      ): IDisposable {
        const button = new ToolbarButton({
          className: 'agoria-export-toolbar-button',
          icon: exportIcon,
          label: 'Request export',
          tooltip: 'Check this notebook here and submit it to the airlock for review',
          onClick: () => void exportFromNotebook(notebook, false).catch(fail)
        });
        notebook.toolbar.insertItem(10, 'agoriaTreExport', button);
        return new DisposableDelegate(() => button.dispose());
      }
    });
  }
};

export default plugin;
