"""TeacherDistillHook: the term equals w·Σ mean((f(s)−f(t))²) recomputed from the student's and a
frozen ANN teacher's head outputs on the same batch; only the student learns; clear errors."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.runner import save_checkpoint

from mmdet.registry import HOOKS, MODELS
from mmdet_hoyer.engine.hooks import TeacherDistillHook

from mmdet.testing import demo_mm_inputs
from test_hoyer_regularizer_hook import loss_batch, tiny_yolo_cfg


@pytest.fixture
def teacher_files(repo_root, tmp_path):
    cfg = tiny_yolo_cfg(repo_root, ann=True)
    torch.manual_seed(1)
    teacher = MODELS.build(cfg.model)
    teacher.init_weights()
    ckpt = str(tmp_path / 'teacher.pth')
    save_checkpoint(teacher.state_dict(), ckpt)
    path = str(tmp_path / 'teacher.py')
    cfg.dump(path)
    return path, ckpt, teacher


@pytest.mark.parametrize('transform', ['none', 'sigmoid'])
def test_term_is_recomputed_from_both_head_outputs(repo_root, teacher_files, transform):
    cfg_path, ckpt, teacher_ref = teacher_files
    torch.manual_seed(0)
    student = MODELS.build(tiny_yolo_cfg(repo_root).model)
    student.init_weights()
    student.train()
    hook = HOOKS.build(dict(type='TeacherDistillHook', teacher_config=cfg_path,
                            teacher_checkpoint=ckpt, loss_weight=3.0, transform=transform))
    hook.before_run(SimpleNamespace(model=student))
    # the teacher holds the checkpoint's weights, is frozen, in eval mode, not in the student
    assert not hook.teacher.training
    assert all(not p.requires_grad for p in hook.teacher.parameters())
    for (k, p), q in zip(hook.teacher.state_dict().items(), teacher_ref.state_dict().values()):
        assert torch.equal(p, q), k
    assert not any(p is q for p in student.parameters() for q in hook.teacher.parameters())

    seen = []
    h = student.bbox_head.register_forward_hook(lambda m, a, o: seen.append(o))
    data = loss_batch(student)
    losses = student(**data, mode='loss')
    h.remove()
    with torch.no_grad():
        t_out = teacher_ref.eval()(data['inputs'], data['data_samples'], mode='tensor')
    s_maps, t_maps = seen[-1][0], t_out[0]
    f = torch.sigmoid if transform == 'sigmoid' else (lambda x: x)
    expected = 3.0 * sum(((f(s.double()) - f(t.double())) ** 2).mean()
                         for s, t in zip(s_maps, t_maps))
    assert len(s_maps) == 3
    assert losses['loss_distill'].item() == pytest.approx(expected.item(), rel=1e-5)
    assert losses['loss_distill'].item() > 0
    student.zero_grad()
    losses['loss_distill'].backward()
    assert student.bbox_head.convs_pred[0].weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in hook.teacher.parameters())
    # predict and eval forwards add nothing; after_run detaches the hook
    student.eval()
    with torch.no_grad():
        packed = demo_mm_inputs(1, [(3, 96, 96)], num_classes=10)
        out = student(**student.data_preprocessor(packed, False), mode='predict')
    assert len(out) == 1
    hook.after_run(None)
    student.train()
    assert 'loss_distill' not in student(**loss_batch(student), mode='loss')


def test_missing_files_and_layers_are_named(repo_root, teacher_files, tmp_path):
    cfg_path, ckpt, _ = teacher_files
    student = MODELS.build(tiny_yolo_cfg(repo_root).model)
    hook = TeacherDistillHook(cfg_path, str(tmp_path / 'nope.pth'))
    with pytest.raises(FileNotFoundError, match="teacher_checkpoint .*nope.pth"):
        hook.before_run(SimpleNamespace(model=student))
    hook = TeacherDistillHook(cfg_path, ckpt, layers=['bbox_haed'])
    with pytest.raises(ValueError, match=r"\['bbox_haed'\] are not modules of the student"):
        hook.before_run(SimpleNamespace(model=student))


@pytest.mark.parametrize('kwargs, field', [
    (dict(loss_weight=-1.), 'loss_weight'), (dict(layers='bbox_head'), 'layers'),
    (dict(transform='kl'), 'transform'), (dict(loss_name='distill'), 'loss_name'),
    (dict(teacher_config=''), 'teacher_config')])
def test_bad_arguments_name_the_field(kwargs, field):
    args = dict(teacher_config='t.py', teacher_checkpoint='t.pth')
    args.update(kwargs)
    with pytest.raises(ValueError, match=field):
        TeacherDistillHook(**args)
