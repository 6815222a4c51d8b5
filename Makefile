# mmdet-hoyer: the two commands a newcomer runs are `make demo` and `make test`.
PY        := .venv/bin/python
DATA      := data/digits_det
DEMO_SNN  := configs/demo/yolov3_hoyer_vgg_digits.py
DEMO_ANN  := configs/demo/yolov3_relu_vgg_digits.py
CLS_SNN   := configs/demo/cls_hoyer_vgg16_digits.py
CLS_ANN   := configs/demo/cls_relu_vgg16_digits.py
WORK      := work_dirs
FIGURE    ?= $(WORK)/demo_snn/detections.png

.PHONY: setup demo demo-ann demo-data demo-pretrain demo-pretrain-ann demo-table demo-stats \
	demo-ssd demo-ssd-ann demo-voc demo-voc-ann demo-distill demo-40e demo-ssd-40e demo-pretrain-w05 demo-w05 demo-w05-voc demo-figure \
	demo-events-data demo-events demo-events-ann test clean-demo

## set up .venv (torch, mmcv built once and cached in ~/.cache/mmdet-hoyer, mmdet, this package)
setup:
	bash tools/misc/setup_env.sh

## make the bundled demo set from scikit-learn's handwritten digits (no download)
demo-data: setup
	@test -f $(DATA)/annotations/instances_val.json && \
		test -f $(DATA)/VOCdevkit/VOC2007/ImageSets/Main/val.txt && \
		test -f $(DATA)/crops/meta/val.txt || \
		$(PY) tools/dataset_converters/make_digits_detection.py --out-dir $(DATA)

## stage 1: pretrain the spiking backbone on the training split's digit crops with MMPretrain (~3 min)
demo-pretrain: demo-data
	@test -f $(WORK)/demo_snn_cls/iter_800.pth || \
		$(PY) tools/train.py $(CLS_SNN) --work-dir $(WORK)/demo_snn_cls

demo-pretrain-ann: demo-data
	@test -f $(WORK)/demo_ann_cls/iter_800.pth || \
		$(PY) tools/train.py $(CLS_ANN) --work-dir $(WORK)/demo_ann_cls

## stage 2: train + evaluate the spiking YOLOv3 on the demo set, spike statistics, results table
demo: demo-pretrain
	$(PY) tools/train.py $(DEMO_SNN) --work-dir $(WORK)/demo_snn
	$(PY) tools/test.py $(DEMO_SNN) $$(cat $(WORK)/demo_snn/last_checkpoint) --work-dir $(WORK)/demo_snn
	$(MAKE) --no-print-directory demo-stats demo-table demo-figure

## the same for the ANN twin (BN + ReLU), for the SNN/ANN comparison
demo-ann: demo-pretrain-ann
	$(PY) tools/train.py $(DEMO_ANN) --work-dir $(WORK)/demo_ann
	$(PY) tools/test.py $(DEMO_ANN) $$(cat $(WORK)/demo_ann/last_checkpoint) --work-dir $(WORK)/demo_ann
	$(MAKE) --no-print-directory demo-table
	@test ! -f $(WORK)/demo_snn/last_checkpoint || $(MAKE) --no-print-directory demo-figure

## the spiking YOLOv3 distilled from its trained ANN twin (TeacherDistillHook; trains the twin first)
demo-distill: demo-pretrain
	@test -f $(WORK)/demo_ann/epoch_20.pth || $(MAKE) --no-print-directory demo-ann
	$(call train_test,configs/demo/yolov3_hoyer_vgg_distill_digits.py,$(WORK)/demo_distill_snn)

## spiking SSD (HoyerSSDVGG + HoyerSSDNeck) on the demo set, COCO format; and its ANN twin
demo-ssd: demo-pretrain
	$(call train_test,configs/demo/ssd160_hoyer_vgg_digits.py,$(WORK)/demo_ssd_snn)

demo-ssd-ann: demo-pretrain-ann
	$(call train_test,configs/demo/ssd160_relu_vgg_digits.py,$(WORK)/demo_ssd_ann)

## spiking YOLOv3 and SSD on the VOC-layout copy of the demo set (VOCDataset + VOCMetric)
demo-voc: demo-pretrain
	$(call train_test,configs/demo/yolov3_hoyer_vgg_digits-voc.py,$(WORK)/demo_voc_yolov3_snn)
	$(call train_test,configs/demo/ssd160_hoyer_vgg_digits-voc.py,$(WORK)/demo_voc_ssd_snn)

demo-voc-ann: demo-pretrain-ann
	$(call train_test,configs/demo/yolov3_relu_vgg_digits-voc.py,$(WORK)/demo_voc_yolov3_ann)
	$(call train_test,configs/demo/ssd160_relu_vgg_digits-voc.py,$(WORK)/demo_voc_ssd_ann)

## the YOLOv3 pair over 40 epochs (~2x `make demo` + `make demo-ann`): the budget of the rows
## closest to the accuracy goals at the demo's width (docs/research/accuracy.md)
demo-40e: demo-pretrain demo-pretrain-ann
	$(call snn_ann_pair,yolov3,40e_digits,40e)

## the SSD pair over 40 epochs: the budget at which its COCO goals hold
demo-ssd-40e: demo-pretrain demo-pretrain-ann
	$(call snn_ann_pair,ssd160,40e_digits,ssd_40e)

## stage 1 at half VGG16's width (the demo's is a quarter), SNN and ANN (~8 min each)
demo-pretrain-w05: demo-data
	@test -f $(WORK)/demo_snn_cls_w05/iter_800.pth || \
		$(PY) tools/train.py configs/demo/cls_hoyer_vgg16_w05_digits.py --work-dir $(WORK)/demo_snn_cls_w05
	@test -f $(WORK)/demo_ann_cls_w05/iter_800.pth || \
		$(PY) tools/train.py configs/demo/cls_relu_vgg16_w05_digits.py --work-dir $(WORK)/demo_ann_cls_w05

## the YOLOv3 pair with the backbone at half width, 20 epochs (~2.3x `make demo` + `make demo-ann`;
## docs/research/accuracy.md)
demo-w05: demo-pretrain-w05
	$(call snn_ann_pair,yolov3,w05_digits,w05)

## the same pair on the VOC-layout copy of the demo set (VOCMetric, 11-point)
demo-w05-voc: demo-pretrain-w05
	$(call snn_ann_pair,yolov3,w05_digits-voc,w05_voc)

## the event-camera demo set: simulated recordings of moving digits and shapes written as Gen1
## files (data/events_demo/{train,val}/*_td.dat + *_bbox.npy, ~2 min)
EVENTS    := data/events_demo
demo-events-data: setup
	@test -f $(EVENTS)/meta.json || $(PY) tools/dataset_converters/make_event_demo.py --out-dir $(EVENTS)

## the spiking YOLOv3 on the event demo (Gen1 protocol, from random weights), spike statistics
demo-events: demo-events-data
	$(call train_test,configs/demo/yolov3_hoyer_vgg_events-demo.py,$(WORK)/demo_events_snn)
	$(PY) tools/analysis_tools/spike_stats.py configs/demo/yolov3_hoyer_vgg_events-demo.py \
		$$(cat $(WORK)/demo_events_snn/last_checkpoint) --num-images 300 --out-dir $(WORK)/demo_events_snn/spike_stats

## its ANN twin, and the SNN/ANN table
demo-events-ann: demo-events-data
	$(call train_test,configs/demo/yolov3_relu_vgg_events-demo.py,$(WORK)/demo_events_ann)
	$(PY) tools/analysis_tools/results_table.py $(WORK)/demo_events_snn $(WORK)/demo_events_ann

# train CONFIG into WORK_DIR, then evaluate its last checkpoint (metrics: WORK_DIR/test_metrics.json)
define train_test
	$(PY) tools/train.py $(1) --work-dir $(2)
	$(PY) tools/test.py $(1) $$(cat $(2)/last_checkpoint) --work-dir $(2)
endef

# the demo pair configs/demo/$(1)_{hoyer,relu}_vgg_$(2).py: SNN and twin trained and evaluated
# into work_dirs/demo_$(3)_{snn,ann}, the SNN's spike statistics, the table
define snn_ann_pair
	$(call train_test,configs/demo/$(1)_hoyer_vgg_$(2).py,$(WORK)/demo_$(3)_snn)
	$(call train_test,configs/demo/$(1)_relu_vgg_$(2).py,$(WORK)/demo_$(3)_ann)
	$(PY) tools/analysis_tools/spike_stats.py configs/demo/$(1)_hoyer_vgg_$(2).py \
		$$(cat $(WORK)/demo_$(3)_snn/last_checkpoint) --num-images 200 --out-dir $(WORK)/demo_$(3)_snn/spike_stats
	$(PY) tools/analysis_tools/results_table.py $(WORK)/demo_$(3)_snn $(WORK)/demo_$(3)_ann
endef

## firing rates, thresholds, membrane histograms and energy of the demo SNN (200 val images)
demo-stats:
	$(PY) tools/analysis_tools/spike_stats.py $(DEMO_SNN) $$(cat $(WORK)/demo_snn/last_checkpoint) \
		--num-images 200 --out-dir $(WORK)/demo_snn/spike_stats

## ground truth | SNN | ANN twin (when `make demo-ann` has run) | spike maps, for 4 val images
demo-figure:
	$(PY) tools/analysis_tools/detection_figure.py $(DEMO_SNN) $$(cat $(WORK)/demo_snn/last_checkpoint) \
		$$(test -f $(WORK)/demo_ann/last_checkpoint && echo --ann $(DEMO_ANN) $$(cat $(WORK)/demo_ann/last_checkpoint)) \
		--out $(FIGURE)

demo-table:
	$(PY) tools/analysis_tools/results_table.py $(WORK)/demo_snn $(WORK)/demo_ann
	@test -f $(WORK)/demo_ann/test_metrics.json && test -f $(WORK)/demo_snn/spike_stats/stats.json && \
		$(PY) tools/analysis_tools/compare.py $(WORK)/demo_snn $(WORK)/demo_ann || true

## run the test suite (CPU)
test: setup
	$(PY) -m pytest tests -q -p no:cacheprovider

clean-demo:
	rm -rf $(WORK)/demo_snn $(WORK)/demo_ann $(WORK)/demo_snn_cls $(WORK)/demo_ann_cls \
		$(WORK)/demo_ssd_* $(WORK)/demo_voc_* $(WORK)/demo_40e_* $(WORK)/demo_w05_* \
		$(WORK)/demo_snn_cls_w05 $(WORK)/demo_ann_cls_w05 $(WORK)/demo_events_*
