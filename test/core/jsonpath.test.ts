import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tektonResultText } from '../../functions/core/binding-expressions.ts';
import { findResults, GoInteger, GoStruct, JsonPathError, parseJsonPath, type JsonPathNode } from '../../functions/core/jsonpath.ts';

// Rows of k8s.io/client-go util/jsonpath parser_test.go and jsonpath_test.go (v0.35), the JSONPath Tekton Triggers
// evaluates bindings with. client-go prints results its own way (text for scalars, JSON for the rest, spaces
// between); `execute` below prints them so, to compare with its rows. Tekton's own printing is tested elsewhere.

function execute(template: string, data: unknown): string {
  return findResults(parseJsonPath(template), data)
    .map((values) => values.map((value) => (isComposite(value) ? tektonResultText([value]) : scalarText(value))).join(' '))
    .join('');
}

function isComposite(value: unknown): boolean {
  return value instanceof GoStruct || (value !== null && typeof value === 'object' && !(value instanceof GoInteger));
}

function scalarText(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof GoInteger) return String(value.value);
  return String(value);
}

const int = (value: number): GoInteger => new GoInteger(value, 'int');
const struct = (fields: [tag: string, name: string, value: unknown][]): GoStruct => new GoStruct('struct', fields.map(([tag, name, value]) => ({ tag, name, value })));

/** client-go's Node.String() of every node under the root, in collectNode's order, spelled shortly. */
function nodeNames(node: JsonPathNode): string[] {
  switch (node.type) {
    case 'list':
      return ['list', ...node.nodes.flatMap(nodeNames)];
    case 'text':
      return [`text:${node.text}`];
    case 'field':
      return [`field:${node.name}`];
    case 'array':
      return [`array:${node.params.map((p) => `${p.value},${p.known ? 'T' : 'F'},${p.derived ? 'T' : 'F'}`).join('|')}`];
    case 'filter':
      return [`filter:${node.operator}`, ...nodeNames(node.left), ...nodeNames(node.right)];
    case 'int':
    case 'float':
    case 'bool':
      return [`${node.type}:${node.value}`];
    case 'union':
      return ['union', ...node.nodes.flatMap(nodeNames)];
    case 'identifier':
      return [`identifier:${node.name}`];
    default:
      return [node.type];
  }
}

describe('client-go jsonpath: TestParser', () => {
  const rows: [name: string, text: string, nodes: string[] | 'error'][] = [
    ['plain', 'hello jsonpath', ['text:hello jsonpath']],
    ['variable', 'hello {.jsonpath}', ['text:hello ', 'list', 'field:jsonpath']],
    ['arrayfiled', "hello {['jsonpath']}", ['text:hello ', 'list', 'field:jsonpath']],
    ['quote', '{"{"}', ['list', 'text:{']],
    ['array', '{[1:3]}', ['list', 'array:1,T,F|3,T,F|0,F,F']],
    ['allarray', '{.book[*].author}', ['list', 'field:book', 'array:0,F,F|0,F,F|0,F,F', 'field:author']],
    ['wildcard', '{.bicycle.*}', ['list', 'field:bicycle', 'wildcard']],
    ['filter', '{[?(@.price<3)]}', ['list', 'filter:<', 'list', 'field:price', 'list', 'int:3']],
    ['recursive', '{..}', ['list', 'recursive']],
    ['recurField', '{..price}', ['list', 'recursive', 'field:price']],
    ['arraydict', "{['book.price']}", ['list', 'field:book', 'field:price']],
    ['union', "{['bicycle.price', 3, 'book.price']}", ['list', 'union', 'list', 'field:bicycle', 'field:price', 'list', 'array:3,T,F|4,T,T|0,F,F', 'list', 'field:book', 'field:price']],
    ['range', '{range .items}{.name},{end}', ['list', 'identifier:range', 'field:items', 'list', 'field:name', 'text:,', 'list', 'identifier:end']],
    ['malformat input', '{\\\\\\}', 'error'],
    ['paired parentheses in quotes', '{[?(@.status.nodeInfo.osImage == "()")]}', ['list', 'filter:==', 'list', 'field:status', 'field:nodeInfo', 'field:osImage', 'list', 'text:()']],
    ['paired parentheses in double quotes and with double quotes escape', '{[?(@.status.nodeInfo.osImage == "(\\"\\")")]}', ['list', 'filter:==', 'list', 'field:status', 'field:nodeInfo', 'field:osImage', 'list', 'text:("")']],
    ['unregular parentheses in double quotes', '{[?(@.test == "())(")]}', ['list', 'filter:==', 'list', 'field:test', 'list', 'text:())(']],
    ['plain text in single quotes', "{[?(@.status.nodeInfo.osImage == 'Linux')]}", ['list', 'filter:==', 'list', 'field:status', 'field:nodeInfo', 'field:osImage', 'list', 'text:Linux']],
    ['test filter suffix', '{[?(@.status.nodeInfo.osImage == "{[()]}")]}', ['list', 'filter:==', 'list', 'field:status', 'field:nodeInfo', 'field:osImage', 'list', 'text:{[()]}']],
    ['double inside single', `{[?(@.status.nodeInfo.osImage == "''")]}`, ['list', 'filter:==', 'list', 'field:status', 'field:nodeInfo', 'field:osImage', 'list', "text:''"]],
    ['single inside double', `{[?(@.status.nodeInfo.osImage == '""')]}`, ['list', 'filter:==', 'list', 'field:status', 'field:nodeInfo', 'field:osImage', 'list', 'text:""']],
    ['single containing escaped single', "{[?(@.status.nodeInfo.osImage == '\\\\\\'')]}", ['list', 'filter:==', 'list', 'field:status', 'field:nodeInfo', 'field:osImage', 'list', "text:\\'"]],
    ['negative index slice, equals a[len-5] to a[len-1]', '{[-5:]}', ['list', 'array:-5,T,F|0,F,F|0,F,F']],
    ['negative index slice, equals a[len-1]', '{[-1]}', ['list', 'array:-1,T,F|0,T,T|0,F,F']],
    ['negative index slice, equals a[1] to a[len-1]', '{[1:-1]}', ['list', 'array:1,T,F|-1,T,F|0,F,F']],
  ];
  for (const [name, text, nodes] of rows) {
    it(name, () => {
      if (nodes === 'error') {
        assert.throws(() => parseJsonPath(text), JsonPathError);
        return;
      }
      assert.deepEqual(parseJsonPath(text).nodes.flatMap(nodeNames), nodes);
    });
  }
});

describe('client-go jsonpath: TestFailParser', () => {
  const rows: [name: string, text: string, message: string][] = [
    ['unclosed action', '{.hello', 'unclosed action'],
    ['unrecognized character', '{*}', "unrecognized character in action: U+002A '*'"],
    ['invalid number', '{+12.3.0}', 'cannot parse number +12.3.0'],
    ['unterminated array', '{[1}', 'unterminated array'],
    ['unterminated filter', '{[?(.price]}', 'unterminated filter'],
    ['invalid multiple recursive descent', '{........}', 'invalid multiple recursive descent'],
  ];
  for (const [name, text, message] of rows) {
    it(name, () => assert.throws(() => parseJsonPath(text), { name: 'JsonPathError', message }));
  }
});

type Row = [name: string, template: string, expect: string | 'error'];

function runRows(rows: readonly Row[], data: unknown): void {
  for (const [name, template, expect] of rows) {
    it(`${name}: ${template}`, () => {
      if (expect === 'error') assert.throws(() => execute(template, data), JsonPathError);
      else assert.equal(execute(template, data), expect);
    });
  }
}

describe('client-go jsonpath: TestTypesInput', () => {
  const types = {
    bools: [true, false, true, false],
    integers: [int(1), int(2), int(3), int(4)],
    floats: [1.0, 2.2, 3.3, 4.0],
    strings: ['one', 'two', 'three', 'four'],
    interfaces: [true, 'one', int(1), 1.1],
    maps: [
      { name: 'one', value: 1 }, // a Go int in client-go's row; JSON has only float64, which prints alike
      { name: 'two', value: 2.02 },
      { name: 'three', value: 3.03 },
      { name: 'four', value: 4.04 },
    ],
    structs: [
      struct([['name', 'Name', 'one'], ['value', 'Value', int(1)], ['type', 'Type', 'integer']]),
      struct([['name', 'Name', 'two'], ['value', 'Value', 2.002], ['type', 'Type', 'float']]),
      struct([['name', 'Name', 'three'], ['value', 'Value', int(3)], ['type', 'Type', 'integer']]),
      struct([['name', 'Name', 'four'], ['value', 'Value', 4.004], ['type', 'Type', 'float']]),
    ],
  };
  runRows(
    [
      ['boolSlice', '{ .bools }', '[true,false,true,false]'],
      ['boolSliceIndex', '{ .bools[0] }', 'true'],
      ['boolSliceIndex', '{ .bools[-1] }', 'false'],
      ['boolSubSlice', '{ .bools[0:2] }', 'true false'],
      ['boolSubSliceFirst2', '{ .bools[:2] }', 'true false'],
      ['boolSubSliceStep2', '{ .bools[:4:2] }', 'true true'],
      ['integerSlice', '{ .integers }', '[1,2,3,4]'],
      ['integerSliceIndex', '{ .integers[0] }', '1'],
      ['integerSliceIndexReverse', '{ .integers[-2] }', '3'],
      ['integerSubSliceFirst2', '{ .integers[0:2] }', '1 2'],
      ['integerSubSliceFirst2Alt', '{ .integers[:2] }', '1 2'],
      ['integerSubSliceStep2', '{ .integers[:4:2] }', '1 3'],
      ['floatSlice', '{ .floats }', '[1,2.2,3.3,4]'],
      ['floatSliceIndex', '{ .floats[0] }', '1'],
      ['floatSliceIndexReverse', '{ .floats[-2] }', '3.3'],
      ['floatSubSliceFirst2', '{ .floats[0:2] }', '1 2.2'],
      ['floatSubSliceFirst2Alt', '{ .floats[:2] }', '1 2.2'],
      ['floatSubSliceStep2', '{ .floats[:4:2] }', '1 3.3'],
      ['stringSlice', '{ .strings }', '["one","two","three","four"]'],
      ['stringSliceIndex', '{ .strings[0] }', 'one'],
      ['stringSliceIndexReverse', '{ .strings[-2] }', 'three'],
      ['stringSubSliceFirst2', '{ .strings[0:2] }', 'one two'],
      ['stringSubSliceFirst2Alt', '{ .strings[:2] }', 'one two'],
      ['stringSubSliceStep2', '{ .strings[:4:2] }', 'one three'],
      ['interfaceSlice', '{ .interfaces }', '[true,"one",1,1.1]'],
      ['interfaceSliceIndex', '{ .interfaces[0] }', 'true'],
      ['interfaceSliceIndexReverse', '{ .interfaces[-2] }', '1'],
      ['interfaceSubSliceFirst2', '{ .interfaces[0:2] }', 'true one'],
      ['interfaceSubSliceFirst2Alt', '{ .interfaces[:2] }', 'true one'],
      ['interfaceSubSliceStep2', '{ .interfaces[:4:2] }', 'true 1'],
      ['mapSlice', '{ .maps }', '[{"name":"one","value":1},{"name":"two","value":2.02},{"name":"three","value":3.03},{"name":"four","value":4.04}]'],
      ['mapSliceIndex', '{ .maps[0] }', '{"name":"one","value":1}'],
      ['mapSliceIndexReverse', '{ .maps[-2] }', '{"name":"three","value":3.03}'],
      ['mapSubSliceFirst2', '{ .maps[0:2] }', '{"name":"one","value":1} {"name":"two","value":2.02}'],
      ['mapSubSliceFirst2Alt', '{ .maps[:2] }', '{"name":"one","value":1} {"name":"two","value":2.02}'],
      ['mapSubSliceStepOdd', '{ .maps[::2] }', '{"name":"one","value":1} {"name":"three","value":3.03}'],
      ['mapSubSliceStepEven', '{ .maps[1::2] }', '{"name":"two","value":2.02} {"name":"four","value":4.04}'],
      ['structSlice', '{ .structs }', '[{"name":"one","value":1,"type":"integer"},{"name":"two","value":2.002,"type":"float"},{"name":"three","value":3,"type":"integer"},{"name":"four","value":4.004,"type":"float"}]'],
      ['structSliceIndex', '{ .structs[0] }', '{"name":"one","value":1,"type":"integer"}'],
      ['structSliceIndexReverse', '{ .structs[-2] }', '{"name":"three","value":3,"type":"integer"}'],
      ['structSubSliceFirst2', '{ .structs[0:2] }', '{"name":"one","value":1,"type":"integer"} {"name":"two","value":2.002,"type":"float"}'],
      ['structSubSliceFirst2Alt', '{ .structs[:2] }', '{"name":"one","value":1,"type":"integer"} {"name":"two","value":2.002,"type":"float"}'],
      ['structSubSliceStepOdd', '{ .structs[::2] }', '{"name":"one","value":1,"type":"integer"} {"name":"three","value":3,"type":"integer"}'],
      ['structSubSliceStepEven', '{ .structs[1::2] }', '{"name":"two","value":2.002,"type":"float"} {"name":"four","value":4.004,"type":"float"}'],
    ],
    types,
  );
});

describe('client-go jsonpath: TestStructInput', () => {
  const book = (category: string, author: string, title: string, price: number) =>
    struct([['', 'Category', category], ['', 'Author', author], ['', 'Title', title], ['', 'Price', price]]);
  const bicycle = (color: string, price: number, isNew: boolean) => struct([['', 'Color', color], ['', 'Price', price], ['', 'IsNew', isNew]]);
  const storeData = struct([
    ['', 'Book', [book('reference', 'Nigel Rees', 'Sayings of the Centurey', 8.95), book('fiction', 'Evelyn Waugh', 'Sword of Honour', 12.99), book('fiction', 'Herman Melville', 'Moby Dick', 8.99)]],
    ['', 'Bicycle', [bicycle('red', 19.95, true), bicycle('green', 20.01, false)]],
    ['', 'Name', 'jsonpath'],
    ['', 'Labels', { engieer: int(10), 'web/html': int(15), 'k8s-app': int(20) }],
    ['', 'Employees', { jason: 'manager', dan: 'clerk' }],
  ]);
  const ints = (...values: number[]) => values.map(int);
  describe('storeTests', () => {
    const rows: [Row[0], Row[1], unknown, Row[2]][] = [
      ['plain', 'hello jsonpath', null, 'hello jsonpath'],
      ['recursive', '{..}', ints(1, 2, 3), '[1,2,3]'],
      ['filter', '{[?(@<5)]}', ints(2, 6, 3, 7), '2 3'],
      ['quote', '{"{"}', null, '{'],
      ['union', '{[1,3,4]}', ints(0, 1, 2, 3, 4), '1 3 4'],
      ['array', '{[0:2]}', ['Monday', 'Tudesday'], 'Monday Tudesday'],
      ['variable', 'hello {.Name}', storeData, 'hello jsonpath'],
      ['dict/', '{$.Labels.web/html}', storeData, '15'],
      ['dict/', '{$.Employees.jason}', storeData, 'manager'],
      ['dict/', '{$.Employees.dan}', storeData, 'clerk'],
      ['dict-', '{.Labels.k8s-app}', storeData, '20'],
      ['nest', '{.Bicycle[*].Color}', storeData, 'red green'],
      ['allarray', '{.Book[*].Author}', storeData, 'Nigel Rees Evelyn Waugh Herman Melville'],
      ['allfields', '{range .Bicycle[*]}{ "{" }{ @.* }{ "} " }{end}', storeData, '{red 19.95 true} {green 20.01 false} '],
      ['recurfields', '{..Price}', storeData, '8.95 12.99 8.99 19.95 20.01'],
      ['recurdotfields', '{...Price}', storeData, '8.95 12.99 8.99 19.95 20.01'],
      ['superrecurfields', '{............................................................Price}', storeData, 'error'],
      ['allstructsSlice', '{.Bicycle}', storeData, '[{"Color":"red","Price":19.95,"IsNew":true},{"Color":"green","Price":20.01,"IsNew":false}]'],
      ['allstructs', '{range .Bicycle[*]}{ @ }{ " " }{end}', storeData, '{"Color":"red","Price":19.95,"IsNew":true} {"Color":"green","Price":20.01,"IsNew":false} '],
      ['lastarray', '{.Book[-1:]}', storeData, '{"Category":"fiction","Author":"Herman Melville","Title":"Moby Dick","Price":8.99}'],
      ['recurarray', '{..Book[2]}', storeData, '{"Category":"fiction","Author":"Herman Melville","Title":"Moby Dick","Price":8.99}'],
      ['bool', '{.Bicycle[?(@.IsNew==true)]}', storeData, '{"Color":"red","Price":19.95,"IsNew":true}'],
    ];
    for (const [name, template, data, expect] of rows) runRows([[name, template, expect]], data);
  });
  describe('failStoreTests', () => {
    const rows: [name: string, template: string, message: RegExp][] = [
      ['invalid identifier', '{hello}', /^unrecognized identifier hello$/],
      ['nonexistent field', '{.hello}', /^hello is not found$/],
      // client-go names the Go type, map[string]int; the bridge's maps are JSON's.
      ['invalid array', '{.Labels[0]}', /^map\[string\].* is not array or slice$/],
      ['invalid filter operator', '{.Book[?(@.Price<>10)]}', /^unrecognized filter operator <>$/],
      ['redundant end', '{range .Labels.*}{@}{end}{end}', /^not in range, nothing to end$/],
    ];
    for (const [name, template, message] of rows) {
      it(name, () => assert.throws(() => execute(template, storeData), { name: 'JsonPathError', message }));
    }
  });
});

describe('client-go jsonpath: TestJSONInput', () => {
  const points = JSON.parse(`[
    {"id": "i1", "x":4, "y":-5}, {"id": "i2", "x":-2, "y":-5, "z":1}, {"id": "i3", "x":  8, "y":  3 },
    {"id": "i4", "x": -6, "y": -1 }, {"id": "i5", "x":  0, "y":  2, "z": 1 }, {"id": "i6", "x":  1, "y":  4 },
    {"id": "i7", "x":  null, "y":  4 }]`);
  runRows(
    [
      ['exists filter', '{[?(@.z)].id}', 'i2 i5'],
      ['bracket key', "{[0]['id']}", 'i1'],
      ['nil value', "{[-1]['x']}", 'null'],
    ],
    points,
  );
});

describe('client-go jsonpath: TestKubernetes', () => {
  const nodes = JSON.parse(`{
    "kind": "List",
    "items":[
      {"kind":"None", "metadata":{"name":"127.0.0.1", "labels":{"kubernetes.io/hostname":"127.0.0.1"}},
       "status":{"capacity":{"cpu":"4"}, "ready": true, "addresses":[{"type": "LegacyHostIP", "address":"127.0.0.1"}]}},
      {"kind":"None", "metadata":{"name":"127.0.0.2", "labels":{"kubernetes.io/hostname":"127.0.0.2"}},
       "status":{"capacity":{"cpu":"8"}, "ready": false,
                 "addresses":[{"type": "LegacyHostIP", "address":"127.0.0.2"}, {"type": "another", "address":"127.0.0.3"}]}}
    ],
    "users":[{"name": "myself", "user": {}}, {"name": "e2e", "user": {"username": "admin", "password": "secret"}}]
  }`);
  runRows(
    [
      ['range item', '{range .items[*]}{.metadata.name}, {end}{.kind}', '127.0.0.1, 127.0.0.2, List'],
      ['range item with quote', '{range .items[*]}{.metadata.name}{"\\t"}{end}', '127.0.0.1\t127.0.0.2\t'],
      ['range addresss', '{.items[*].status.addresses[*].address}', '127.0.0.1 127.0.0.2 127.0.0.3'],
      ['double range', '{range .items[*]}{range .status.addresses[*]}{.address}, {end}{end}', '127.0.0.1, 127.0.0.2, 127.0.0.3, '],
      ['item name', '{.items[*].metadata.name}', '127.0.0.1 127.0.0.2'],
      ['union nodes capacity', "{.items[*]['metadata.name', 'status.capacity']}", '127.0.0.1 127.0.0.2 {"cpu":"4"} {"cpu":"8"}'],
      ['range nodes capacity', '{range .items[*]}[{.metadata.name}, {.status.capacity}] {end}', '[127.0.0.1, {"cpu":"4"}] [127.0.0.2, {"cpu":"8"}] '],
      ['user password', '{.users[?(@.name=="e2e")].user.password}', 'secret'],
      ['hostname', '{.items[0].metadata.labels.kubernetes\\.io/hostname}', '127.0.0.1'],
      ['hostname filter', '{.items[?(@.metadata.labels.kubernetes\\.io/hostname=="127.0.0.1")].kind}', 'None'],
      ['bool item', '{.items[?(@..ready==true)].metadata.name}', '127.0.0.1'],
    ],
    nodes,
  );
  it('recursive name (maps in any order, as Go walks them): {..name}', () => {
    assert.deepEqual(execute('{..name}', nodes).split(' ').sort(), ['127.0.0.1', '127.0.0.2', 'e2e', 'myself']);
  });
});

describe('client-go jsonpath: TestNestedRanges', () => {
  const data = JSON.parse(`{"items": [
    {"metadata": {"name": "pod1"}, "spec": {"containers": [
      {"name": "foo", "another": [{"name": "value1"}, {"name": "value2"}]},
      {"name": "bar", "another": [{"name": "value1"}, {"name": "value2"}]}]}},
    {"metadata": {"name": "pod2"}, "spec": {"containers": [
      {"name": "baz", "another": [{"name": "value1"}, {"name": "value2"}]}]}}]}`);
  runRows(
    [
      ['nested range with a trailing newline', '{range .items[*]}{.metadata.name}{":"}{range @.spec.containers[*]}{.name}{","}{end}{"+"}{end}', 'pod1:foo,bar,+pod2:baz,+'],
      [
        'nested range with a trailing character within another nested range with a trailing newline',
        '{range .items[*]}{.metadata.name}{"~"}{range @.spec.containers[*]}{.name}{":"}{range @.another[*]}{.name}{","}{end}{"+"}{end}{"#"}{end}',
        'pod1~foo:value1,value2,+bar:value1,value2,+#pod2~baz:value1,value2,+#',
      ],
      [
        'two nested ranges at the same level with a trailing newline',
        '{range .items[*]}{.metadata.name}{"\\t"}{range @.spec.containers[*]}{.name}{" "}{end}{"\\t"}{range @.spec.containers[*]}{.name}{" "}{end}{"\\n"}{end}',
        'pod1\tfoo bar \tfoo bar \npod2\tbaz \tbaz \n',
      ],
    ],
    data,
  );
});

describe('client-go jsonpath: TestFilterPartialMatchesSometimesMissingAnnotations (missing keys are errors, as Tekton asks)', () => {
  const data = JSON.parse(`{"kind": "List", "items": [
    {"kind": "Pod", "metadata": {"name": "pod1", "annotations": {"color": "blue"}}},
    {"kind": "Pod", "metadata": {"name": "pod2"}},
    {"kind": "Pod", "metadata": {"name": "pod3", "annotations": {"color": "green"}}},
    {"kind": "Pod", "metadata": {"name": "pod4", "annotations": {"color": "blue"}}}]}`);
  runRows([['error on missing items', '{.items[?(@.metadata.annotations.color=="blue")].metadata.name}', 'error']], data);
});

const containers = (count: number) => ({ apiVersion: 'v1', kind: 'Pod', spec: { containers: Array.from({ length: count }, (_, i) => ({ image: 'radial/busyboxplus:curl', name: `fake${i}` })) } });

describe('client-go jsonpath: TestNegativeIndex', () => {
  runRows(
    [
      ['test containers[0], it equals containers[0]', '{.spec.containers[0].name}', 'fake0'],
      ['test containers[0:0], it equals the empty set', '{.spec.containers[0:0].name}', ''],
      ['test containers[0:-1], it equals containers[0:3]', '{.spec.containers[0:-1].name}', 'fake0 fake1 fake2'],
      ['test containers[-1:0], expect error', '{.spec.containers[-1:0].name}', 'error'],
      ['test containers[-1], it equals containers[3]', '{.spec.containers[-1].name}', 'fake3'],
      ['test containers[-1:], it equals containers[3:]', '{.spec.containers[-1:].name}', 'fake3'],
      ['test containers[-2], it equals containers[2]', '{.spec.containers[-2].name}', 'fake2'],
      ['test containers[-2:], it equals containers[2:]', '{.spec.containers[-2:].name}', 'fake2 fake3'],
      ['test containers[-3], it equals containers[1]', '{.spec.containers[-3].name}', 'fake1'],
      ['test containers[-4], it equals containers[0]', '{.spec.containers[-4].name}', 'fake0'],
      ['test containers[-4:], it equals containers[0:]', '{.spec.containers[-4:].name}', 'fake0 fake1 fake2 fake3'],
      ['test containers[-5], expect a error cause it out of bounds', '{.spec.containers[-5].name}', 'error'],
      ['test containers[5:5], expect empty set', '{.spec.containers[5:5].name}', ''],
      ['test containers[-5:-5], expect empty set', '{.spec.containers[-5:-5].name}', ''],
      ['test containers[3:1], expect a error cause start index is greater than end index', '{.spec.containers[3:1].name}', 'error'],
      ['test containers[-1:-2], it equals containers[3:2], expect a error cause start index is greater than end index', '{.spec.containers[-1:-2].name}', 'error'],
    ],
    containers(4),
  );
});

describe('client-go jsonpath: TestStep', () => {
  runRows(
    [
      ['test containers[0:], it equals containers[0:6:1]', '{.spec.containers[0:].name}', 'fake0 fake1 fake2 fake3 fake4 fake5'],
      ['test containers[0:6:], it equals containers[0:6:1]', '{.spec.containers[0:6:].name}', 'fake0 fake1 fake2 fake3 fake4 fake5'],
      ['test containers[0:6:1]', '{.spec.containers[0:6:1].name}', 'fake0 fake1 fake2 fake3 fake4 fake5'],
      ['test containers[0:6:0], it errors', '{.spec.containers[0:6:0].name}', 'error'],
      ['test containers[0:6:-1], it errors', '{.spec.containers[0:6:-1].name}', 'error'],
      ['test containers[1:4:2]', '{.spec.containers[1:4:2].name}', 'fake1 fake3'],
      ['test containers[1:4:3]', '{.spec.containers[1:4:3].name}', 'fake1'],
      ['test containers[1:4:4]', '{.spec.containers[1:4:4].name}', 'fake1'],
      ['test containers[0:6:2]', '{.spec.containers[0:6:2].name}', 'fake0 fake2 fake4'],
      ['test containers[0:6:3]', '{.spec.containers[0:6:3].name}', 'fake0 fake3'],
      ['test containers[0:6:5]', '{.spec.containers[0:6:5].name}', 'fake0 fake5'],
      ['test containers[0:6:6]', '{.spec.containers[0:6:6].name}', 'fake0'],
    ],
    containers(6),
  );
});

describe('JSONPath semantics client-go has that its tables do not show', () => {
  const body = JSON.parse('{"n": 1, "list": [{"a": 1}, {"b": 2}], "s": "hé"}');
  it('compares a JSON number (float64) only with a float literal: against 1 it is an error, against 1.0 it matches', () => {
    assert.throws(() => execute('{.list[?(@.a == 1)].a}', body), { message: 'incompatible types for comparison' });
    assert.equal(execute('{.list[?(@.a == 1.0)].a}', { list: [{ a: 1 }] }), '1');
  });
  it('fails a comparison filter when an item lacks the field, but an exists filter skips it', () => {
    assert.throws(() => execute('{.list[?(@.a == 1.0)]}', body), { message: 'a is not found' });
    assert.equal(execute('{.list[?(@.a)].a}', body), '1');
  });
  it("walks a string's UTF-8 bytes with a wildcard, as reflect does", () => {
    assert.equal(execute('{.s.*}', body), '104 195 169');
  });
  it('yields nothing, without error, for a field of an empty selection', () => {
    assert.equal(execute('{.list[?(@.a == 2.0)].a}', { list: [{ a: 1 }] }), '');
  });
});
