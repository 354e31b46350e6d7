/** The import wizard's and export menu's own words (field labels come from the metadata). */
import { useLang } from '../i18n';

const zh = {
  import: '导入', importTitle: '导入{entity}', upload: '上传文件', map: '对应字段', check: '检查', run: '导入', result: '结果',
  dropHere: '点击或拖入文件', dropHint: '支持 Excel（.xlsx）和 CSV（UTF-8 或 GBK 编码），不限行数；带附件时上传 .zip（表格 + 文件，附件列填写文件路径）',
  fileInfo: '{name}：{format}，{encoding}', column: '文件列', sample: '示例值', target: '导入到字段', skipColumn: '不导入',
  template: '映射模板', saveTemplate: '保存为模板', templateName: '模板名称', mode: '导入方式',
  insert: '仅新增', update: '仅更新已有记录', upsert: '新增并更新', atomic: '全部成功才导入', partial: '导入正确的行，跳过错误行',
  automations: '执行自动化规则', dryRun: '检查数据', commit: '开始导入', next: '下一步', back: '上一步', restart: '重新导入',
  rows: '总行数', toCreate: '新增', toUpdate: '更新', toSkip: '跳过', errors: '错误', line: '行号', problems: '问题',
  downloadErrors: '下载错误文件', undo: '撤销本次导入', undone: '已撤销', confirmUndo: '撤销后，本次新增的记录将移入回收站，更新的记录恢复原值。确定撤销？',
  running: '正在导入…', done: '导入完成', failed: '导入失败', nothingWritten: '有错误，未写入任何数据', allGood: '数据检查通过',
  sheet: '工作表', file: '文件', columns: '{n} 列', matching: '识别规则', openList: '查看列表', exportCsv: '导出 CSV', exportXlsx: '导出 Excel', matchBy: '按{fields}识别已有记录',
};
const en: typeof zh = {
  import: 'Import', importTitle: 'Import {entity}', upload: 'Upload', map: 'Map columns', check: 'Check', run: 'Import', result: 'Result',
  dropHere: 'Click or drop a file here', dropHint: 'Excel (.xlsx) or CSV (UTF-8 or GBK), any number of rows; with files, a .zip of the table and the files (file columns name their paths)',
  fileInfo: '{name}: {format}, {encoding}', column: 'Column', sample: 'Example', target: 'Field', skipColumn: 'Do not import',
  template: 'Mapping template', saveTemplate: 'Save as template', templateName: 'Template name', mode: 'Mode',
  insert: 'Add new only', update: 'Update existing only', upsert: 'Add and update', atomic: 'All or nothing', partial: 'Import the good rows, skip the bad',
  automations: 'Run automations', dryRun: 'Check data', commit: 'Import now', next: 'Next', back: 'Back', restart: 'Import another file',
  rows: 'Rows', toCreate: 'New', toUpdate: 'Update', toSkip: 'Skip', errors: 'Errors', line: 'Row', problems: 'Problems',
  downloadErrors: 'Download error file', undo: 'Undo this import', undone: 'Undone', confirmUndo: 'Records this import created go to the recycle bin and updated ones get their old values back. Undo?',
  running: 'Importing…', done: 'Import finished', failed: 'Import failed', nothingWritten: 'There were errors; nothing was written', allGood: 'All rows passed the check',
  sheet: 'Sheet', file: 'File', columns: '{n} columns', matching: 'Matching', openList: 'Open the list', exportCsv: 'Export CSV', exportXlsx: 'Export Excel', matchBy: 'Existing records are found by {fields}',
};

export type Word = keyof typeof zh;
export function useWords() {
  const { lang } = useLang();
  const words = lang === 'zh-CN' ? zh : en;
  return (key: Word, params: Record<string, string | number> = {}) =>
    words[key].replace(/\{(\w+)\}/g, (_, p) => String(params[p] ?? ''));
}
