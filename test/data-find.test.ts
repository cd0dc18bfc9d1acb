import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.ts';
import { compareNatural, findImages, labelFromFileName, labelFromFolderName } from '../src/data/find.ts';
import { makeTempDir, removeTempDir } from './helpers/images.ts';

let dir: string;
beforeAll(() => {
  dir = makeTempDir();
});
afterAll(() => removeTempDir(dir));

/** Creates empty files (finding looks at names only) in a deliberately shuffled order. */
function touch(root: string, relativePaths: string[]): void {
  for (const rel of relativePaths) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), '');
  }
}

describe('labels', () => {
  it('from Kaggle names: the word before the first dot, any case', () => {
    expect(labelFromFileName('cat.0.jpg')).toBe(0);
    expect(labelFromFileName('dog.12499.jpg')).toBe(1);
    expect(labelFromFileName('DOG.7.JPG')).toBe(1);
    expect(labelFromFileName('Cat.3 copy.jpeg')).toBe(0);
    expect(labelFromFileName('cats.1.jpg')).toBeNull();
    expect(labelFromFileName('123.jpg')).toBeNull();
    expect(labelFromFileName('hotdog.1.jpg')).toBeNull();
    expect(labelFromFileName('dog')).toBeNull();
  });
  it('from class folders: cat, cats, dog, dogs in any case', () => {
    expect(['cat', 'Cats', 'CAT'].map(labelFromFolderName)).toEqual([0, 0, 0]);
    expect(['dog', 'DOGS', 'Dogs'].map(labelFromFolderName)).toEqual([1, 1, 1]);
    expect(['kitten', 'doggo', 'train'].map(labelFromFolderName)).toEqual([null, null, null]);
  });
});

describe('compareNatural', () => {
  it('sorts numbers by value, ignores case first, and is deterministic and total', () => {
    const names = ['cat.10.jpg', 'cat.2.jpg', 'cat.1.jpg', 'cat.02.jpg', 'Cat.1.jpg', 'cat.1.jpeg', 'dog.1.jpg', 'cat.100.jpg'];
    const sorted = [...names].sort(compareNatural);
    expect(sorted).toEqual(['cat.1.jpeg', 'Cat.1.jpg', 'cat.1.jpg', 'cat.02.jpg', 'cat.2.jpg', 'cat.10.jpg', 'cat.100.jpg', 'dog.1.jpg']);
    expect([...names].reverse().sort(compareNatural)).toEqual(sorted);
  });
});

describe('findImages', () => {
  it('finds both layouts recursively, labels them, ignores other and hidden files, sorts naturally', async () => {
    const root = join(dir, 'mixed');
    touch(root, [
      'dog.10.jpg',
      'cat.2.JPG',
      'DOG.1.Jpeg',
      'cat.10.png',
      'cat.1.webp',
      'cat 3 with spaces.jpg', // no dot after the word: unlabeled
      'dog.4 (copy).jpg',
      'nested/deeper/dog.5.jpg',
      'Cats/IMG_0002.jpg',
      'Cats/IMG_0001.jpg',
      'dogs/sub folder/photo.PNG',
      'dogs/cat.9.jpg', // the name wins over the folder
      '12.jpg',
      'notes.txt',
      'cat.11.gif',
      '.hidden.jpg',
      '._cat.12.jpg',
      '.cache/cat.13.jpg',
    ]);
    const found = await findImages(root);
    expect(found.root).toBe(root);
    expect(found.unreadable).toEqual([]);
    expect(found.files.map((f) => [f.relativePath, f.label])).toEqual([
      ['12.jpg', null],
      ['cat 3 with spaces.jpg', null],
      ['cat.1.webp', 0],
      ['cat.2.JPG', 0],
      ['cat.10.png', 0],
      ['Cats/IMG_0001.jpg', 0],
      ['Cats/IMG_0002.jpg', 0],
      ['DOG.1.Jpeg', 1],
      ['dog.4 (copy).jpg', 1],
      ['dog.10.jpg', 1],
      ['dogs/cat.9.jpg', 0],
      ['dogs/sub folder/photo.PNG', 1],
      ['nested/deeper/dog.5.jpg', 1],
    ]);
    expect(found.files[0]!.path).toBe(join(root, '12.jpg'));
    expect(found.files.at(-1)!.path).toBe(join(root, 'nested', 'deeper', 'dog.5.jpg'));
  });

  it('gives the same order however the files were created', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `${i % 2 ? 'dog' : 'cat'}.${(i * 17) % 30}.jpg`);
    touch(join(dir, 'order-a'), names);
    touch(join(dir, 'order-b'), [...names].reverse());
    const a = await findImages(join(dir, 'order-a'));
    const b = await findImages(join(dir, 'order-b'));
    expect(a.files.map((f) => f.relativePath)).toEqual(b.files.map((f) => f.relativePath));
    expect(a.files.slice(0, 3).map((f) => f.relativePath)).toEqual(['cat.0.jpg', 'cat.2.jpg', 'cat.4.jpg']);
  });

  it('a root folder named like a class labels what it holds', async () => {
    touch(join(dir, 'by-root', 'Dogs'), ['a.jpg', 'cat.1.jpg']);
    const found = await findImages(join(dir, 'by-root', 'Dogs'));
    expect(found.files.map((f) => [f.relativePath, f.label])).toEqual([
      ['a.jpg', 1],
      ['cat.1.jpg', 0],
    ]);
  });

  it('lists image-named entries that are not files (decoding reports them) and survives link loops', async () => {
    const root = join(dir, 'odd');
    mkdirSync(join(root, 'x.jpg'), { recursive: true });
    symlinkSync(join(root, 'missing.jpg'), join(root, 'dog.1.jpg'));
    symlinkSync(root, join(root, 'loop'));
    const found = await findImages(root);
    expect(found.files.map((f) => f.relativePath)).toEqual(['dog.1.jpg', 'x.jpg']);
  });

  it('a missing root or a file as root: a UserError naming the path', async () => {
    const missing = join(dir, 'no-such-folder');
    await expect(findImages(missing)).rejects.toThrow(UserError);
    await expect(findImages(missing)).rejects.toThrow(`${missing}: cannot read the image folder: no such file or folder`);
    const file = join(dir, 'file.txt');
    writeFileSync(file, 'x');
    await expect(findImages(file)).rejects.toThrow(`${file}: not a folder`);
  });
});
