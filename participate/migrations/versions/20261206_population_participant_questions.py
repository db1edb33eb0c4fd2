"""Optional questions about participants, the population's shares of their answers, and participants' answers.

Revision ID: a4c2e8f1d3b7
Revises: c5e3a9d1f7b2
Create Date: 2026-12-06 02:48:27.658259

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4c2e8f1d3b7'
down_revision = 'c5e3a9d1f7b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('participant_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('template', sa.String(length=40), nullable=True),
    sa.Column('special_category', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('lawful_basis', sa.String(length=1000), server_default='', nullable=False),
    sa.Column('population_source', sa.String(length=300), server_default='', nullable=False),
    sa.Column('population_year', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('NOT special_category OR length(lawful_basis) >= 1', name=op.f('ck_participant_question_special_category_has_basis')),
    sa.CheckConstraint('length(text) BETWEEN 1 AND 300', name=op.f('ck_participant_question_text_length')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_participant_question_consultation_id_consultation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant_question')),
    sa.UniqueConstraint('consultation_id', 'position', name=op.f('uq_participant_question_consultation_id_position'))
    )
    with op.batch_alter_table('participant_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_question_consultation_id'), ['consultation_id'], unique=False)

    op.create_table('question_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('population_share', sa.Double(), nullable=True),
    sa.CheckConstraint('length(label) BETWEEN 1 AND 120', name=op.f('ck_question_category_label_length')),
    sa.CheckConstraint('length(value) >= 1', name=op.f('ck_question_category_value_not_empty')),
    sa.CheckConstraint('population_share IS NULL OR (population_share >= 0 AND population_share <= 1)', name=op.f('ck_question_category_share_is_share')),
    sa.ForeignKeyConstraint(['question_id'], ['participant_question.id'], name=op.f('fk_question_category_question_id_participant_question'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_category')),
    sa.UniqueConstraint('question_id', 'position', name=op.f('uq_question_category_question_id_position')),
    sa.UniqueConstraint('question_id', 'value', name=op.f('uq_question_category_question_id_value'))
    )
    op.create_table('participant_answer',
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['question_category.id'], name=op.f('fk_participant_answer_category_id_question_category'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_participant_answer_participant_id_participant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['participant_question.id'], name=op.f('fk_participant_answer_question_id_participant_question'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('participant_id', 'question_id', name=op.f('pk_participant_answer'))
    )
    with op.batch_alter_table('participant_answer', schema=None) as batch_op:
        batch_op.create_index('ix_participant_answer_question', ['question_id'], unique=False)



def downgrade():
    with op.batch_alter_table('participant_answer', schema=None) as batch_op:
        batch_op.drop_index('ix_participant_answer_question')

    op.drop_table('participant_answer')
    op.drop_table('question_category')
    with op.batch_alter_table('participant_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_question_consultation_id'))

    op.drop_table('participant_question')
