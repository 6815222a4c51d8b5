# mmdet-hoyer: the two commands a newcomer runs are `make demo` and `make test`.
PY        := .venv/bin/python
DATA      := data/digits_det
DEMO_SNN  := configs/demo/yolov3_hoyer_vgg_digits.py
DEMO_ANN  := configs/demo/yolov3_vgg_ann_digits.py
WORK      := work_dirs

.PHONY: setup demo demo-ann demo-data demo-table test clean-demo

## set up .venv (torch, mmcv built once and cached in ~/.cache/mmdet-hoyer, mmdet, this package)
setup:
	bash tools/misc/setup_env.sh

## make the bundled demo set from scikit-learn's handwritten digits (no download)
demo-data: setup
	@test -f $(DATA)/annotations/instances_val.json || \
		$(PY) tools/dataset_converters/make_digits_detection.py --out-dir $(DATA)

## train + evaluate the spiking YOLOv3 on the demo set and print the results table
demo: demo-data
	$(PY) tools/train.py $(DEMO_SNN) --work-dir $(WORK)/demo_snn
	$(PY) tools/test.py $(DEMO_SNN) $$(cat $(WORK)/demo_snn/last_checkpoint) --work-dir $(WORK)/demo_snn
	$(MAKE) --no-print-directory demo-table

## the same for the ANN twin (BN + ReLU), for the SNN/ANN comparison
demo-ann: demo-data
	$(PY) tools/train.py $(DEMO_ANN) --work-dir $(WORK)/demo_ann
	$(PY) tools/test.py $(DEMO_ANN) $$(cat $(WORK)/demo_ann/last_checkpoint) --work-dir $(WORK)/demo_ann
	$(MAKE) --no-print-directory demo-table

demo-table:
	$(PY) tools/analysis_tools/results_table.py $(WORK)/demo_snn $(WORK)/demo_ann

## run the test suite (CPU)
test: setup
	$(PY) -m pytest tests -q -p no:cacheprovider

clean-demo:
	rm -rf $(WORK)/demo_snn $(WORK)/demo_ann
